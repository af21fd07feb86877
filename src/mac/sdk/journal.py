"""Every Prediction created in this process, in creation order, for partial results at a deadline."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_created: list[Any] = []


def record(prediction: Any) -> None:
    with _lock:
        _created.append(prediction)


def snapshot() -> list[Any]:
    """The latest prediction per idx, in first-seen order."""
    with _lock:
        items = list(_created)
    latest: dict[Any, Any] = {}
    for p in items:
        latest[getattr(p, "idx", None)] = p
    return list(latest.values())
