"""MAC compatibility: `from base_agent import BaseAIMEAgent, Problem, Prediction` as in the published benchmark."""

from __future__ import annotations

import json
from pathlib import Path

from mac.sdk.agent import BaseAgent
from mac.sdk.types import Prediction, Problem

__all__ = ["BaseAIMEAgent", "BaseAgent", "BaseScienceAgent", "Prediction", "Problem", "load_problems",
           "save_predictions"]


class BaseAIMEAgent(BaseAgent):
    """MAC's AIME base: `solve(problems, timeout_sec) -> list[Prediction]`, answers are integers 0-999 as strings."""


class BaseScienceAgent(BaseAgent):
    """MAC's science base: each Problem carries `choices` as "A) ..." strings; answer with one letter."""


def load_problems(path: str | Path) -> list[Problem]:
    """Problems from a JSON list or JSONL file of {idx|id, question, choices?}."""
    text = Path(path).read_text()
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
    return [Problem(idx=int(r.get("idx", i)), question=r["question"], choices=r.get("choices")) for i, r in enumerate(rows)]


def save_predictions(predictions: list[Prediction], path: str | Path) -> None:
    """Write predictions as a JSON list of {idx, pred}."""
    Path(path).write_text(json.dumps([{"idx": p.idx, "pred": p.pred} for p in predictions], indent=1))
