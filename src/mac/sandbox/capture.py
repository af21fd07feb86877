"""Bounded capture of a child's output stream: keep the first `limit` bytes, drain and count the rest."""

from __future__ import annotations

import asyncio

_CHUNK = 64 * 1024


class Capture:
    def __init__(self, stream: asyncio.StreamReader | None, limit: int):
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0
        self.task = asyncio.ensure_future(self._read(stream)) if stream is not None else None

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(_CHUNK):
            room = max(self.limit - len(self.kept), 0)
            self.kept += chunk[:room]
            self.dropped += len(chunk) - min(room, len(chunk))

    async def finish(self, timeout: float) -> None:
        """Wait for EOF; give up after `timeout` (something still holds the pipe) and stop reading."""
        if self.task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except TimeoutError:
            self.task.cancel()

    def text(self) -> str:
        return self.kept.decode("utf-8", "replace")
