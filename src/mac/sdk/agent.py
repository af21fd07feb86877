"""BaseAgent: the class an artifact subclasses."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod

from mac.sdk.types import Prediction, Problem


class BaseAgent(ABC):
    """Subclass this once in `agent.py` and implement `solve`.

    The runner constructs the subclass with `api_key`, `api_base` and `model` for the task-model gateway;
    they default to `TASK_MODEL_API_KEY`, `TASK_MODEL_API_BASE` and `TASK_MODEL_NAME`. Other keyword
    arguments are kept in `self.config`.
    """

    def __init__(self, api_key: str | None = None, api_base: str | None = None, model: str | None = None, **kwargs):
        self.api_key = api_key or os.environ.get("TASK_MODEL_API_KEY", "")
        self.api_base = api_base or os.environ.get("TASK_MODEL_API_BASE", "")
        self.model = model or os.environ.get("TASK_MODEL_NAME", "")
        self.config = kwargs

    @abstractmethod
    def solve(self, problems: list[Problem], timeout_sec: float) -> list[Prediction]:
        """Answer every problem within `timeout_sec` seconds; return one Prediction per problem."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"
