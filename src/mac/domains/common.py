"""Small helpers shared by the built-in domains: stable hashing and record fields the sim may use."""

from __future__ import annotations

import hashlib
from typing import Any

from mac.records import Record


def stable_unit(*parts: Any) -> float:
    """A number in [0, 1) that depends only on `parts` (not on the process, unlike `hash`)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def record_field(record: Record, name: str) -> Any:
    """A domain field of the record's file row (kept by `extra="allow"`), or None."""
    return (record.model_extra or {}).get(name)


def explicit_difficulty(record: Record) -> float | None:
    """A `difficulty` in [0, 1] written in the data file, which wins over any estimate."""
    value = record_field(record, "difficulty")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
        return float(value)
    return None
