"""Live state of a running trial, read by the `mac run` display (written by the trial, never the reverse)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal
from collections.abc import Callable

from mac.kinds import TrialStatus
from mac.records import Usage


@dataclass
class TrialProgress:
    trial: str
    meta_agent: str = ""
    seed: int = 0
    phase: str = "queued"
    deadline: float | None = None
    """Unix time the current phase must end (development: the dev deadline)."""
    best_dev: float | None = None
    dev_evals: int = 0
    test: float | None = None
    status: Literal["queued"] | TrialStatus = "queued"
    reason: str | None = None
    usage_fn: Callable[[], Usage] | None = field(default=None, repr=False)
    last_usage: Usage = field(default_factory=Usage)
    started_at: float | None = None

    def time_left(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.time())

    def usage(self) -> Usage:
        if self.usage_fn is not None:
            try:
                self.last_usage = self.usage_fn()
            except Exception:  # noqa: BLE001 - the gateway may be closing; keep the last figure
                self.usage_fn = None
        return self.last_usage

    def on_dev_eval(self, entry: dict[str, Any]) -> None:
        self.dev_evals += 1
        if entry.get("success") and (self.best_dev is None or entry["accuracy"] > self.best_dev):
            if entry.get("first_k") is None:
                self.best_dev = entry["accuracy"]
