"""The gateway's call log: one JSON line per request, appended outside every sandbox.

Each line: {"v": 1, "time", "phase", "token_id", "label", "channel", "request_sha256", "model", "n", "stream",
"input_tokens", "output_tokens", "latency_ms", "status", "quota", "error"}. Tokens themselves are never written.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO, Any

LOG_VERSION = 1


class CallLog:
    """Append-only JSONL writer; `path=None` keeps nothing. Lines are flushed as they are written."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path is not None else None
        self._fh: IO[str] | None = None

    def open(self) -> None:
        if self.path is not None and self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("a", encoding="utf-8", buffering=1)

    def write(self, **record: Any) -> None:
        if self._fh is not None:
            self._fh.write(json.dumps({"v": LOG_VERSION, "time": round(time.time(), 3), **record},
                                      separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
