"""The controller's environment relay: the only way an agentic artifact reaches its task environment.

The artifact's sandbox gets this unix socket relayed to 127.0.0.1:ENV_RELAY_PORT. Each line is one JSON request
(`exec`, `upload_file`, `upload_dir`, `download_file`, `download_dir`), checked, logged (command, cwd, user,
exit code, duration, output sizes; appended to `log_path` as JSONL) and run on the Environment. `close()` ends
the agent phase: the socket goes away and open connections are cut, so nothing more reaches the environment.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from mac.environments import files
from mac.environments.base import Environment
from mac.errors import EnvError, MacError

ENV_RELAY_PORT = 8001
MAX_COMMAND_CHARS = 256 << 10
LOGGED_COMMAND_CHARS = 4000


class ExecRelay:
    def __init__(self, environment: Environment, *, log_path: Path | None = None, scratch: Path,
                 max_timeout: float | None = None):
        self.environment = environment
        self.log_path = Path(log_path) if log_path is not None else None
        self.scratch = scratch
        self.max_timeout = max_timeout
        self.calls: list[dict[str, Any]] = []
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.socket_path: Path | None = None

    async def start(self, socket_path: Path) -> Path:
        self._server = await asyncio.start_unix_server(self._serve, path=str(socket_path), limit=files.TRANSFER_MAX * 2)
        socket_path.chmod(0o666)
        self.socket_path = socket_path
        return socket_path

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while self._server is not None and (line := await reader.readline()):
                reply = await self._handle(line)
                if self._server is None:
                    break  # the agent phase ended while this call ran: its answer is not delivered
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _handle(self, line: bytes) -> dict[str, Any]:
        started = time.monotonic()
        record: dict[str, Any] = {"time": time.time()}
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise EnvError("a request is one JSON object")
            record["op"] = str(request.get("op"))[:40]
            reply = await self._dispatch(request, record)
        except (MacError, ValueError, TypeError, KeyError, OSError) as exc:
            reply = {"ok": False, "error": type(exc).__name__, "message": str(exc)[:2000]}
            record["error"] = reply["message"][:500]
        record["wall_sec"] = round(time.monotonic() - started, 4)
        self._log(record)
        return reply

    async def _dispatch(self, request: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "exec":
            return await self._exec(request, record)
        if op == "upload_file":
            record["target"] = str(request["target"])
            data = files.decode({"data": request.get("data")})
            return await self._via_host_file(data, request["target"])
        if op == "upload_dir":
            record["target"] = str(request["target"])
            return await self._upload_dir(files.decode({"data": request.get("data")}), str(request["target"]))
        if op == "download_file":
            record["source"] = str(request["source"])
            return await self._download(str(request["source"]), folder=False)
        if op == "download_dir":
            record["source"] = str(request["source"])
            return await self._download(str(request["source"]), folder=True)
        raise EnvError(f"unknown op {op!r}: exec, upload_file, upload_dir, download_file, download_dir")

    async def _exec(self, request: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        command = request.get("command")
        if not isinstance(command, (str, list)) or len(json.dumps(command)) > MAX_COMMAND_CHARS:
            raise EnvError("exec needs a command string (or argv list) under 256 KiB")
        env = request.get("env") or {}
        if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise EnvError("exec env must map strings to strings")
        timeout = request.get("timeout")
        timeout = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None
        if self.max_timeout is not None:
            timeout = min(timeout or self.max_timeout, self.max_timeout)
        cwd = request.get("cwd") if isinstance(request.get("cwd"), str) else None
        user = request.get("user") if isinstance(request.get("user"), str) else None
        record.update(command=str(command)[:LOGGED_COMMAND_CHARS], cwd=cwd, user=user, timeout=timeout)
        result = await self.environment.exec(command, cwd=cwd, env=env, timeout=timeout, user=user)
        record.update(returncode=result.returncode, timed_out=result.timed_out, stdout_bytes=len(result.stdout),
                      stderr_bytes=len(result.stderr), truncated=result.stdout_truncated or result.stderr_truncated)
        return {"ok": True, **result.model_dump()}

    async def _via_host_file(self, data: bytes, target: str) -> dict[str, Any]:
        folder = Path(tempfile.mkdtemp(dir=self.scratch))
        try:
            (folder / "f").write_bytes(data)
            await self.environment.upload_file(folder / "f", target)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return {"ok": True}

    async def _upload_dir(self, data: bytes, target: str) -> dict[str, Any]:
        folder = Path(tempfile.mkdtemp(dir=self.scratch))
        try:
            await asyncio.to_thread(files.untar_to_host, data, folder / "d")
            await self.environment.upload_dir(folder / "d", target)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return {"ok": True}

    async def _download(self, source: str, folder: bool) -> dict[str, Any]:
        scratch = Path(tempfile.mkdtemp(dir=self.scratch))
        try:
            if folder:
                await self.environment.download_dir(source, scratch / "d")
                data = await asyncio.to_thread(files.tar_host_dir, scratch / "d")
            else:
                await self.environment.download_file(source, scratch / "f")
                data = (scratch / "f").read_bytes()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return {"ok": True, "data": base64.b64encode(data).decode()}

    def _log(self, record: dict[str, Any]) -> None:
        self.calls.append(record)
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, default=str) + "\n")
