"""Predictions a killed artifact left in its journal (mac.sdk.journal), read as untrusted input.

When the in-sandbox runner could not write its result file (the artifact's `solve` held the GIL until the
sandbox's wall clock killed it, or it was killed for memory), the controller falls back to the journal that the
SDK appended to as each Prediction was made. The journal was written by code sharing the artifact's process, so
it is read like the result file (mac.evaluation.untrusted_file) and every line is checked: torn or malformed
lines are skipped and counted; the latest line per idx wins, in first-seen order; entries then go through the
same grading as a result file's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mac.evaluation.grading import ArtifactOutput
from mac.evaluation.untrusted_file import read_capped
from mac.sdk.journal import MAX_FILE_BYTES

JOURNAL_NAME = "journal.jsonl"
"""The journal's name in the artifact's output folder (/mac/out inside the sandbox)."""


def read_journal(path: Path, max_bytes: int = MAX_FILE_BYTES) -> ArtifactOutput | None:
    """The journal's predictions (from its first `max_bytes`) as a partial output, or None when there is no usable
    prediction in it."""
    raw, _why = read_capped(path, max_bytes, "journal", whole=False)  # forked workers may append past the cap
    if raw is None:
        return None
    latest: dict[tuple[str, Any], dict[str, Any]] = {}
    bad = 0
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        entry = _entry(line)
        if entry is None:
            bad += 1
            continue
        latest[(type(entry["idx"]).__name__, entry["idx"])] = entry  # an update keeps its first-seen position
    if not latest:
        return None
    skipped = f" ({bad} unreadable journal lines skipped)" if bad else ""
    return ArtifactOutput(entries=list(latest.values()), partial=True,
                          error=f"Kept {len(latest)} predictions from the SDK's journal{skipped}")


def _entry(line: bytes) -> dict[str, Any] | None:
    """One journal line as a result-file entry (see mac.sdk.journal.encode), or None when it is not one."""
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    idx, pred = value.get("idx"), value.get("pred")
    if idx is None and isinstance(value.get("item_type"), str):  # not a Prediction at all: graded as invalid
        return {"idx": None, "pred": None, "item_type": value["item_type"][:100]}
    if idx is None and not isinstance(value.get("idx_type"), str) or type(idx) not in (int, str, type(None)):
        return None
    entry: dict[str, Any] = {"idx": idx[:200] if isinstance(idx, str) else idx,
                             "pred": pred if isinstance(pred, str) else None}
    for field in ("idx_repr", "idx_type", "pred_type"):
        if isinstance(value.get(field), str):
            entry[field] = value[field][:200]
    return entry
