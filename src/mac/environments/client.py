"""The controller's side of the envd protocol (see mac.environments.envd): JSON lines over a unix socket, one
connection per call in flight (a small pool keeps idle ones), every answer checked before use."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mac.errors import EnvError

MAX_LINE = 256 << 20
"""Largest answer accepted (base64 of a transfer cap of 128 MiB, plus room)."""


class EnvdClient:
    def __init__(self, socket_path: Path):
        self.socket_path = Path(socket_path)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def wait_ready(self, timeout: float, alive: Callable[[], bool]) -> None:
        """Poll until envd answers a ping; `alive()` False means the sandbox already died (EnvError)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        delay = 0.001
        while True:
            if self.socket_path.exists():
                try:
                    await self.call({"op": "ping"})
                    return
                except (OSError, EnvError):
                    pass
            if not alive():
                raise EnvError("the environment's sandbox exited before its server started (see its stderr)")
            if loop.time() > deadline:
                raise EnvError(f"the environment's server did not answer within {timeout:g}s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.005)

    async def call(self, request: dict[str, Any]) -> dict[str, Any]:
        reader, writer = await self._connection()
        try:
            writer.write(json.dumps(request).encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            writer.close()
            raise EnvError(f"the environment stopped answering ({exc}); it may have been killed at a limit") from exc
        if not line:
            writer.close()
            raise EnvError("the environment closed the connection; it may have been killed at a limit")
        self._idle.append((reader, writer))
        try:
            reply = json.loads(line)
        except ValueError as exc:
            raise EnvError("the environment answered garbage") from exc
        if not isinstance(reply, dict):
            raise EnvError("the environment answered garbage")
        if not reply.get("ok"):
            raise EnvError(f"{request.get('op')} failed in the environment: {str(reply.get('error'))[:100]}: "
                           f"{str(reply.get('message'))[:2000]}")
        return reply

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self._idle:
            reader, writer = self._idle.pop()
            if not writer.is_closing() and not reader.at_eof():
                return reader, writer
            writer.close()
        return await asyncio.open_unix_connection(str(self.socket_path), limit=MAX_LINE)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for _reader, writer in idle:
            writer.close()


def decode(reply: dict[str, Any], limit: int) -> bytes:
    data = reply.get("data")
    if not isinstance(data, str) or len(data) > limit * 4 // 3 + 8:
        raise EnvError("the environment sent a transfer larger than the cap, or no data")
    try:
        return base64.b64decode(data, validate=True)
    except ValueError as exc:
        raise EnvError("the environment sent malformed data") from exc
