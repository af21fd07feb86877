"""Every Prediction created in this process, latest per idx, for partial results at a deadline.

Kept as a dict keyed by idx so that an artifact creating many candidate Predictions does not grow it without
bound; a re-created idx keeps its first-seen position and its latest object (read at snapshot time, so a
`pred` changed after creation is seen too).
"""

from __future__ import annotations

import threading
from typing import Any

_MAX_ODD_KEYS = 10_000
"""Predictions whose idx is not hashable are kept by identity, up to this many."""

_lock = threading.Lock()
_latest: dict[Any, Any] = {}
_odd = 0


def _key(prediction: Any) -> Any:
    idx = getattr(prediction, "idx", None)
    try:
        hash(idx)
    except Exception:  # noqa: BLE001 - an unhashable or hostile idx must not break the journal
        return None
    return ("idx", type(idx).__name__, idx)


def record(prediction: Any) -> None:
    global _odd
    key = _key(prediction)
    with _lock:
        if key is None:
            if _odd >= _MAX_ODD_KEYS:
                return
            _odd += 1
            key = ("object", id(prediction))
        try:
            _latest[key] = prediction
        except Exception:  # noqa: BLE001 - a hostile __eq__ on idx; such a prediction is simply not journaled
            pass


def snapshot() -> list[Any]:
    """The latest prediction per idx, in first-seen order."""
    with _lock:
        return list(_latest.values())


def clear() -> None:
    global _odd
    with _lock:
        _latest.clear()
        _odd = 0
