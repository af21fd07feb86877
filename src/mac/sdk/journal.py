"""Every Prediction created in this process, latest per idx: kept in memory, and written durably as it is made.

In memory it is a dict keyed by idx, so an artifact creating many candidate Predictions does not grow it without
bound; a re-created idx keeps its first-seen position and its latest object (read at snapshot time, so a `pred`
changed after creation is seen too).

On disk (`open_file`, set up by the in-sandbox runner): each Prediction is appended to a JSONL file when it is
created or changed, with one write(2) on an O_APPEND descriptor, before the constructor returns. Partial results
then survive a deadline even when no thread of this process can run any more: a `solve` that holds the GIL
(a tight loop, a C call that never releases it) is killed by the sandbox's wall clock, and the controller reads
this file instead of the result file nobody could write. A kill can tear at most the last line. Lines are
`{"idx": int or repr, "pred": str or null, "pred_type": name if not str}` (see `encode`); a later line for the
same idx replaces an earlier one. Writing stops once the file would pass MAX_FILE_BYTES (memory keeps going).
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

_MAX_ODD_KEYS = 10_000
"""Predictions whose idx is not hashable are kept by identity, up to this many."""
MAX_PRED_CHARS = 64 * 1024
"""A longer `pred` is cut (an answer is a short string; the controller caps what it reads too)."""
MAX_IDX_CHARS = 200
"""An idx is an int (a position) or a short string (MAC's LCB problem ids)."""
MAX_FILE_BYTES = 16 << 20
"""The journal file stops growing here (the controller reads at most this much of it)."""

_lock = threading.Lock()
_latest: dict[Any, Any] = {}
_odd = 0
_fd: int | None = None
_file_bytes = 0


def encode(prediction: Any) -> dict[str, Any]:
    """The JSON form of a prediction, whatever the artifact made of it (never raises): an idx that is neither an int
    nor a short str is null with `idx_repr` and `idx_type`, a non-str pred is null with `pred_type`, an item that
    is no Prediction (a dict, a string) has only `item_type`."""
    try:
        if not (hasattr(prediction, "idx") and hasattr(prediction, "pred")):  # a dict, a str, a tuple ...
            return {"idx": None, "pred": None, "item_type": type(prediction).__name__[:100]}
        idx = getattr(prediction, "idx", None)
        pred = getattr(prediction, "pred", None)
        if type(idx) is int or (type(idx) is str and len(idx) <= MAX_IDX_CHARS):
            item: dict[str, Any] = {"idx": idx}
        else:  # never passed off as an idx: the controller names it and counts the prediction as invalid
            item = {"idx": None, "idx_repr": _safe_repr(idx), "idx_type": type(idx).__name__[:100]}
        if isinstance(pred, str):
            item["pred"] = str.__str__(pred)[:MAX_PRED_CHARS]
        else:
            item["pred"] = None
            item["pred_type"] = type(pred).__name__[:100]
        return item
    except Exception as exc:  # noqa: BLE001 - a hostile object must not stop the other predictions
        return {"idx": "<unreadable>", "pred": None, "pred_type": f"unreadable ({type(exc).__name__})"}


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)[:MAX_IDX_CHARS]
    except Exception:  # noqa: BLE001 - a hostile __repr__
        return f"<{type(value).__name__}>"


def _key(prediction: Any) -> Any:
    idx = getattr(prediction, "idx", None)
    try:
        hash(idx)
    except Exception:  # noqa: BLE001 - an unhashable or hostile idx must not break the journal
        return None
    return ("idx", type(idx).__name__, idx)


def record(prediction: Any, *, changed: bool = False) -> None:
    """Remember `prediction` (new, or `changed` after creation: then only if it is still the latest of its idx)."""
    global _odd
    key = _key(prediction)
    with _lock:
        if changed and not _is_latest(key, prediction):
            return
        if key is None:
            if _odd >= _MAX_ODD_KEYS:
                return
            _odd += 1
            key = ("object", id(prediction))
        try:
            _latest[key] = prediction
        except Exception:  # noqa: BLE001 - a hostile __eq__ on idx; such a prediction is simply not journaled
            return
        _append(prediction)


def _is_latest(key: Any, prediction: Any) -> bool:
    try:
        return key is not None and _latest.get(key) is prediction
    except Exception:  # noqa: BLE001 - a hostile __eq__ on idx
        return False


def _append(prediction: Any) -> None:
    global _fd, _file_bytes
    if _fd is None:
        return
    line = (json.dumps(encode(prediction)) + "\n").encode()
    if _file_bytes + len(line) > MAX_FILE_BYTES:
        return
    try:
        _file_bytes += os.write(_fd, line)
    except OSError:  # disk or file-size limit: memory still has it
        _close()


def open_file(path: str | os.PathLike[str]) -> None:
    """Append every later prediction to `path` (created 0600; the runner calls this before loading the agent)."""
    global _fd, _file_bytes
    with _lock:
        _close()
        _fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        _file_bytes = 0


def _close() -> None:
    global _fd
    if _fd is not None:
        os.close(_fd)
        _fd = None


def snapshot() -> list[Any]:
    """The latest prediction per idx, in first-seen order."""
    with _lock:
        return list(_latest.values())


def clear() -> None:
    """Forget everything and stop writing to the file."""
    global _odd
    with _lock:
        _latest.clear()
        _odd = 0
        _close()
