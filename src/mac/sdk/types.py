"""Problem and Prediction: the two records an artifact sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mac.sdk import journal


@dataclass
class Problem:
    """One question. `choices` holds "A) ..." strings for multiple choice; `extra` holds domain fields.

    `idx` is what a Prediction must carry: the problem's position for most domains, MAC's string problem id
    (`question_id`) for LiveCodeBench. Domain fields are attributes too (`p.starter_code`, `p.fn_name`), as on
    MAC's own LCB Problem.
    """

    idx: int | str
    question: str
    choices: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails; dunder names and a half-built object (copy, pickle) stay plain.
        extra = self.__dict__.get("extra")
        if name.startswith("__") or not isinstance(extra, dict) or name not in extra:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return extra[name]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """MAC compatibility: build from a problems-file row."""
        return cls(idx=data["idx"], question=data["question"], choices=data.get("choices"),
                   extra=dict(data.get("extra") or {}))

    def to_dict(self) -> dict[str, Any]:
        return {"idx": self.idx, "question": self.question, "choices": self.choices, "extra": self.extra}


@dataclass
class Prediction:
    """The artifact's answer to problem `idx` (exactly the Problem's idx, type included). `pred` must be a string."""

    idx: int | str
    pred: str

    def __post_init__(self) -> None:
        # Journaled at once (in memory and in the runner's journal file), so that a run cut off at its deadline,
        # even one whose process can no longer run any thread, still returns what was already answered.
        journal.record(self)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name in ("idx", "pred") and "idx" in self.__dict__ and "pred" in self.__dict__:
            journal.record(self, changed=True)  # a later change of the latest prediction of its idx

    def to_dict(self) -> dict[str, Any]:
        return {"idx": self.idx, "pred": self.pred}
