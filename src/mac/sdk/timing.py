"""The run's deadline, set by the runner before `solve` is called."""

from __future__ import annotations

import time

_deadline: float | None = None


def set_deadline(timeout_sec: float) -> None:
    global _deadline
    _deadline = time.monotonic() + timeout_sec


def deadline() -> float | None:
    """The deadline on the `time.monotonic()` clock, or None outside a run."""
    return _deadline


def remaining() -> float:
    """Seconds left before the runner cuts the run off (inf outside a run)."""
    if _deadline is None:
        return float("inf")
    return max(0.0, _deadline - time.monotonic())
