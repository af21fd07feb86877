"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Whole files are written to a temporary sibling, flushed, and moved over the target with `os.replace`.
Append-only logs (JSONL) are appended one complete line per `write` call on an O_APPEND descriptor, so a
crash leaves at most a missing last line, never a torn one in the middle.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel


def write_bytes_atomic(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace `path` with `data` atomically (same folder temp file + fsync + os.replace)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str, *, mode: int = 0o644) -> None:
    write_bytes_atomic(path, text.encode("utf-8"), mode=mode)


def write_json_atomic(path: Path, obj: Any, *, mode: int = 0o644) -> None:
    """JSON of a dict/list or a pydantic model, indented for people, written atomically."""
    if isinstance(obj, BaseModel):
        text = obj.model_dump_json(indent=2)
    else:
        text = json.dumps(obj, indent=2, default=str)
    write_text_atomic(path, text + "\n", mode=mode)


def append_jsonl(path: Path, record: Any) -> None:
    """Append one JSON line with a single write on an O_APPEND descriptor."""
    path = Path(path)
    if isinstance(record, BaseModel):
        line = record.model_dump_json()
    else:
        line = json.dumps(record, default=str)
    data = (line + "\n").encode("utf-8")  # JSON text never holds a raw newline
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a JSONL log (a torn last line from a crash is ignored)."""
    path = Path(path)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
