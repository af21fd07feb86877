"""MAC compatibility: `from base_agent import BaseAIMEAgent, Problem, Prediction` as in the published benchmark
(also `BaseScienceAgent` and `BaseLCBAgent`).

The published bases also offer `_start_timer`, `_remaining_time`, `_check_timeout`, `start_time`,
`timeout_sec`, `config` and the `load_problems` / `save_predictions` helpers; artifacts written for MAC use
them, so they exist here with the same meaning. The run's real deadline (`mac.sdk.remaining`) always wins.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from mac.sdk.agent import BaseAgent
from mac.sdk.timing import remaining
from mac.sdk.types import Prediction, Problem

__all__ = ["BaseAIMEAgent", "BaseAgent", "BaseLCBAgent", "BaseScienceAgent", "Prediction", "Problem",
           "load_problems", "save_predictions"]
_ROW_KEYS = ("idx", "id", "question", "choices", "extra")


class _MacBase(BaseAgent):
    """What MAC's published base classes provide besides `solve`."""

    def __init__(self, api_key: str | None = None, api_base: str | None = None, model: str | None = None, **kwargs):
        super().__init__(api_key=api_key, api_base=api_base, model=model, **kwargs)
        self.start_time: float = time.time()  # MAC starts its timer when solve begins; construction is just before
        self.timeout_sec: float | None = None

    def _start_timer(self, timeout_sec: float) -> None:
        if self.timeout_sec is None:
            self.start_time, self.timeout_sec = time.time(), timeout_sec

    def _stop_timer(self) -> None:
        """Kept for compatibility; the runner's deadline cannot be stopped."""

    def _remaining_time(self) -> float:
        own = float("inf")
        if self.timeout_sec is not None:
            own = max(0.0, self.timeout_sec - (time.time() - self.start_time))
        return min(own, remaining())

    def _check_timeout(self) -> bool:
        return self._remaining_time() <= 0

    @classmethod
    def load_problems(cls, filepath: str | Path) -> list[Problem]:
        return load_problems(filepath)

    @classmethod
    def save_predictions(cls, predictions: list[Prediction], filepath: str | Path) -> None:
        save_predictions(predictions, filepath)


class BaseAIMEAgent(_MacBase):
    """MAC's AIME base: `solve(problems, timeout_sec) -> list[Prediction]`, answers are integers 0-999 as strings."""


class BaseScienceAgent(_MacBase):
    """MAC's science base: each Problem carries `choices` as "A) ..." strings; answer with one letter."""


class BaseLCBAgent(_MacBase):
    """MAC's LiveCodeBench base: `idx` is the problem's string id; each Problem has `question_title`,
    `question_content`, `starter_code`, `platform`, `difficulty`, `contest_date`, `question_id`, `contest_id`,
    `fn_name` (call-based when set, stdin/stdout otherwise) and `public_test_cases`; answer with one Python
    program as a string."""


def load_problems(path: str | Path) -> list[Problem]:
    """Problems from a JSON list or a JSONL file of {idx|id, question, choices?, extra?}, or of MAC's LCB rows
    ({idx, question_content, starter_code, ...}: the idx stays a string, the other fields go to `extra`)."""
    text = Path(path).read_text()
    if text.lstrip().startswith("["):
        rows = json.loads(text)
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [_problem(i, row) for i, row in enumerate(rows)]


def _problem(position: int, row: dict) -> Problem:
    idx = row.get("idx", row.get("id", position))
    extra = {k: v for k, v in row.items() if k not in _ROW_KEYS} | dict(row.get("extra") or {})
    if "question_content" in row:  # MAC's LCB input format
        return Problem(idx=str(idx), question=row.get("question") or row["question_content"], extra=extra)
    return Problem(idx=int(idx), question=row["question"], choices=row.get("choices"), extra=extra)


def save_predictions(predictions: list[Prediction], path: str | Path) -> None:
    """Write predictions as JSONL of {idx, pred}, as MAC does."""
    lines = [json.dumps({"idx": p.idx, "pred": p.pred}) for p in predictions]
    Path(path).write_text("".join(line + "\n" for line in lines))
