"""The result of running an artifact on a split: MAC-compatible fields plus ours."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mac.kinds import Split
from mac.records import Usage

__all__ = ["EvalResult", "Usage"]


class EvalResult(BaseModel):
    """Answer of `POST /evaluate/agent`, `mac eval --json` and verification.

    `accuracy` is 0-100 over `total` (the problems asked: all of the split, or the first k).
    `partial` means some predictions are missing or the run was cut off; `timed_out` that the deadline hit.
    """

    success: bool
    """The artifact ran and produced a gradeable result (possibly partial). False: load error, crash, nothing."""
    accuracy: float = 0.0
    correct: int = 0
    total: int = 0
    covered: int = 0
    """Problems that got a prediction (MAC's LCB field); `coverage` is it in percent of `total`."""
    coverage: float = 0.0
    scores: list[int] = Field(default_factory=list)
    """1/0 per problem asked, in order."""
    missing_predictions: list[int | str] = Field(default_factory=list)
    """The idx of every problem asked without a prediction (positions; MAC's string ids for LCB)."""
    detailed_results: list[dict[str, Any]] = Field(default_factory=list)
    """Per problem: idx, pred, normalized, correct, explanation (dev only; the expected answer is never included;
    for code, `pred` is left out and `tests` lists each test's status)."""
    invalid_predictions: list[dict[str, Any]] = Field(default_factory=list)
    """Predictions that match no problem asked (idx not an int, or unknown): idx, pred, explanation."""
    predictions_content: str = ""
    """The predictions as JSON text (what the artifact returned); empty for code, whose source is never echoed."""
    case_timeout: float | None = None
    """Code domains: the judge's fixed wall limit per test in seconds (MAC's `case_timeout`, 10)."""
    partial: bool = False
    timed_out: bool = False
    run_id: str = ""
    usage: Usage = Field(default_factory=Usage)
    error: str | None = None
    traceback: str | None = None
    """Where the artifact raised: the last frames of its traceback (file:line) and the exception, secrets scrubbed."""
    artifact_stderr: str = ""
    """Tail of the artifact's stderr (for the meta-agent's debugging)."""
    wall_sec: float = 0.0
    split: Split = "dev"
    simulated: bool = False
    events: list[dict[str, Any]] = Field(default_factory=list)
    """Sandbox events of this run (kills, truncation, denials)."""
