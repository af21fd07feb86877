"""The gateway's call log: one JSON line per request, appended outside every sandbox.

Each line has the fields {"v": 1, "time", "phase", "token_id", "label", "channel", "request_sha256", "model", "n", "stream",
"input_tokens", "output_tokens", "latency_ms", "status", "quota", "error"}. Tokens themselves are never written.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import IO, Any

from mac.gateway.wire import dumps

LOG_VERSION = 1


class CallLog:
    """Append-only JSONL writer; `path=None` keeps nothing.

    Lines written in one event-loop iteration go out in one write at the end of it (fewer syscalls under load);
    outside a running loop, and on `flush()` / `close()`, they are written at once.
    """

    def __init__(self, path: Path | None):
        self.path = Path(path) if path is not None else None
        self._fh: IO[bytes] | None = None
        self._pending: list[bytes] = []

    def open(self) -> None:
        if self.path is not None and self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("ab")

    def write(self, **record: Any) -> None:
        if self._fh is None:
            return
        record["v"], record["time"] = LOG_VERSION, round(time.time(), 3)  # `record` is this call's own dict
        line = dumps(record)
        if not self._pending:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write through
                self._pending.append(line)
                self.flush()
                return
        self._pending.append(line)

    def flush(self) -> None:
        if self._fh is not None and self._pending:
            self._fh.write(b"\n".join(self._pending) + b"\n")
            self._fh.flush()
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        if self._fh is not None:
            self._fh.close()
            self._fh = None
