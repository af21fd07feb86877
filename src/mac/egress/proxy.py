"""The egress proxy: the meta-agent's only way out, to its own model API and nothing else.

    async with EgressProxy(["api.anthropic.com"], log_path=trial/"egress.jsonl", evidence=ev) as proxy:
        await proxy.start(scratch / "egress" / "egress.sock")   # relayed to 127.0.0.1:EGRESS_PORT in the sandbox

It runs on the trusted side on a unix socket that the trial relays into the meta-agent's sandbox (the same relay
as the gateway's), where HTTPS_PROXY/HTTP_PROXY point at it. It speaks HTTP CONNECT (TLS tunnels: the proxy sees
the host and port, never the content) and plain forward proxying (`GET http://host/...`, rewritten to
origin-form with `Connection: close`, one request per connection). Every attempt, allowed or denied, is one line
of `egress.jsonl` and one evidence record (source "egress", kind "egress_allowed" / "egress_denied"). A denied
attempt gets 403 and the proxy never opens a connection for it.

`host.mac.internal` is the controller's loopback (for a meta model served on the controller host); like any
other host it is reachable only on the ports the allowlist names. Built on asyncio streams rather than aiohttp's
server: a CONNECT tunnel needs the raw connection after the 200, which aiohttp's server does not hand over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mac.egress.rules import HOST_ALIAS, Allowlist, split_host_port
from mac.errors import ConfigError
from mac.evidence import EvidenceLog

EGRESS_PORT = 8002
"""Where the proxy appears inside the meta-agent's sandbox (127.0.0.1:EGRESS_PORT)."""
MAX_HEAD_BYTES = 64 << 10
HEAD_TIMEOUT_SEC = 30.0
CONNECT_TIMEOUT_SEC = 15.0
CHUNK = 64 << 10
HOP_HEADERS = {"proxy-connection", "proxy-authorization", "connection", "keep-alive", "te", "upgrade"}


class EgressProxy:
    """One trial's egress proxy. `allow`: allowlist entries (mac.egress.rules). `resolve`: names the proxy maps
    to addresses itself (default: HOST_ALIAS -> 127.0.0.1); every other name goes to the system resolver."""

    def __init__(self, allow: list[str] | tuple[str, ...] = (), *, log_path: Path | None = None,
                 evidence: EvidenceLog | None = None, label: str = "", resolve: dict[str, str] | None = None):
        self.allowlist = Allowlist(allow)
        self.log_path, self.evidence, self.label = log_path, evidence, label
        self.resolve = {HOST_ALIAS: "127.0.0.1", **(resolve or {})}
        self.attempts: list[dict[str, Any]] = []
        self.socket_path: Path | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self, socket_path: Path) -> Path:
        """Listen on `socket_path` (connectable by sandbox uids; its folder guards it)."""
        socket_path = Path(socket_path)
        self._server = await asyncio.start_unix_server(self._serve, path=str(socket_path), limit=MAX_HEAD_BYTES)
        socket_path.chmod(0o666)
        self.socket_path = socket_path
        return socket_path

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def __aenter__(self) -> EgressProxy:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- one client connection ---------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # always inside a task here
        self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_SEC)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return await self._reply(writer, 400, "malformed request line")
        method, target, version = parts
        try:
            host, port, path = _destination(method, target)
        except ConfigError as exc:
            self._record(method, target, "", 0, allowed=False, reason=str(exc))
            return await self._reply(writer, 400, f"{exc}: send requests through the proxy as HTTP_PROXY/HTTPS_PROXY")
        if not self.allowlist.allows(host, port):
            self._record(method, target, host, port, allowed=False, reason="not on the allowlist")
            allowed = ", ".join(self.allowlist.entries()) or "nothing"
            return await self._reply(writer, 403, f"MAC egress proxy: {host}:{port} is not on this trial's "
                                                   f"allowlist (allowed: {allowed})")
        self._record(method, target, host, port, allowed=True, reason="allowlisted")
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(self.resolve.get(host, host), port), CONNECT_TIMEOUT_SEC)
        except (TimeoutError, OSError) as exc:
            return await self._reply(writer, 502, f"MAC egress proxy: cannot reach {host}:{port} ({exc})")
        try:
            if method == "CONNECT":
                writer.write(f"{version} 200 Connection established\r\n\r\n".encode())
                await writer.drain()
            else:
                up_writer.write(_origin_form(method, path, version, lines[1:]))
            await _pipe_both(reader, writer, up_reader, up_writer)
        finally:
            up_writer.close()

    async def _reply(self, writer: asyncio.StreamWriter, status: int, text: str) -> None:
        phrase = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[status]
        body = (text + "\n").encode()
        writer.write(f"HTTP/1.1 {status} {phrase}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                     f"Connection: close\r\n\r\n".encode() + body)
        await writer.drain()

    def _record(self, method: str, target: str, host: str, port: int, *, allowed: bool, reason: str) -> None:
        record = {"time": round(time.time(), 3), "label": self.label, "method": method, "host": host, "port": port,
                  "url": target[:500], "allowed": allowed, "decision": "allow" if allowed else "deny",
                  "reason": reason}
        self.attempts.append(record)
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
        if self.evidence is not None:
            detail = {k: v for k, v in record.items() if k not in ("time", "label")}
            self.evidence.add("egress", "egress_allowed" if allowed else "egress_denied", label=self.label, **detail)


def _destination(method: str, target: str) -> tuple[str, int, str]:
    """(host, port, origin-form path) of a proxy request; ConfigError for what a proxy must refuse."""
    if method == "CONNECT":
        host, port = split_host_port(target)
        if not host or port is None:
            raise ConfigError(f"CONNECT needs host:port, got {target[:100]!r}")
        return host, port, ""
    parts = urlsplit(target)
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigError(f"not a proxy request ({target[:100]!r}); https goes through CONNECT")
    path = parts.path or "/"
    return parts.hostname.lower(), parts.port or 80, path + (f"?{parts.query}" if parts.query else "")


def _origin_form(method: str, path: str, version: str, header_lines: list[str]) -> bytes:
    kept = [line for line in header_lines if line and line.split(":", 1)[0].strip().lower() not in HOP_HEADERS]
    head = [f"{method} {path} {version}", *kept, "Connection: close", "", ""]
    return "\r\n".join(head).encode("latin-1")


async def _copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while chunk := await src.read(CHUNK):
            dst.write(chunk)
            await dst.drain()
        if dst.can_write_eof():
            dst.write_eof()
    except (ConnectionError, OSError):
        pass


async def _pipe_both(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, up_reader: asyncio.StreamReader,
                     up_writer: asyncio.StreamWriter) -> None:
    """Relay both directions until the upstream is done (the client then gets EOF)."""
    upstream = asyncio.ensure_future(_copy(reader, up_writer))
    try:
        await _copy(up_reader, writer)
    finally:
        upstream.cancel()
        await asyncio.gather(upstream, return_exceptions=True)


def proxy_environment(port: int = EGRESS_PORT) -> dict[str, str]:
    """The sandbox's proxy variables (both spellings: curl reads only lower-case http_proxy); loopback stays
    direct (the gateway and the evaluation service are relayed there)."""
    url = f"http://127.0.0.1:{port}"
    bypass = "127.0.0.1,localhost,::1"
    return {"HTTP_PROXY": url, "HTTPS_PROXY": url, "http_proxy": url, "https_proxy": url,
            "NO_PROXY": bypass, "no_proxy": bypass}
