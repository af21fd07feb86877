"""Records shared across layers: a domain's data record and what the `sim` task model knows about it.

Both live on the trusted side only: they carry answers. Artifacts see `mac.sdk.Problem`, never these.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    """One row of `dev.jsonl` / `test.jsonl`: `id`, `question`, `answer`, and domain fields."""

    model_config = ConfigDict(extra="allow")

    id: str
    question: str
    answer: str | None = None
    """The reference answer; required by short-answer domains, absent where the truth is tests (code)."""
    choices: list[str] | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    """Domain fields that reach the artifact's `Problem.extra` (never the answer)."""


class SimItem(BaseModel):
    """What the simulated task model knows about one problem (see mac.gateway.sim)."""

    question: str
    """The question text as the artifact receives it; the sim recognises a prompt that contains it."""
    answer: str
    """The correct answer in its canonical form ("33", "C")."""
    difficulty: float = 0.5
    """0 (easy) .. 1 (hard): lowers the chance of a correct sample."""
    distractors: list[str] = Field(default_factory=list)
    """Plausible wrong answers that wrong samples cluster on."""
    answer_format: str = "integer"
    """Name of the sim's answer format (`mac.gateway.sim_formats`): "integer" (replies end with \\boxed{N}),
    "choice" ("Answer: X") or "code" (a fenced Python program); a domain may register its own."""


class Usage(BaseModel):
    """Task-model usage as the gateway metered it."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    refused: int = 0
    """Requests the gateway refused (quota, auth)."""
    upstream_errors: int = 0
    """Requests that failed upstream: 5xx, connection errors, timeouts; not quota or auth refusals."""

    def plus(self, other: Usage) -> Usage:
        """Field-wise sum (cost rounded to a micro-dollar)."""
        return self._combine(other, 1)

    def minus(self, other: Usage) -> Usage:
        """Field-wise difference: what was used between two readings of one meter."""
        return self._combine(other, -1)

    def _combine(self, other: Usage, sign: int) -> Usage:
        values = {name: getattr(self, name) + sign * getattr(other, name) for name in type(self).model_fields}
        values["cost_usd"] = round(values["cost_usd"], 6)
        return Usage(**values)
