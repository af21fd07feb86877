"""An allowlisting CONNECT proxy on a unix socket: the only way a sandbox reaches outside hosts (today: the
package index, for role "install" with `allow_package_index`).

The sandbox reaches it through a relay at 127.0.0.1:EGRESS_PORT with HTTPS_PROXY set, so pip and uv work
unchanged. Only `CONNECT host:port` to an allowed pair is tunnelled (TLS stays end to end, nothing is decrypted);
anything else gets 403 and an "egress_denied" event, seen by the controller (trustworthy evidence).
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

EGRESS_PORT = 3128
DEFAULT_INDEX_HOSTS = ("pypi.org:443", "files.pythonhosted.org:443")
_HEAD_LIMIT = 8192
_CHUNK = 64 * 1024


def package_index_hosts() -> list[str]:
    """host:port pairs of the package index: PyPI, or the controller's UV_INDEX_URL / PIP_INDEX_URL and extras."""
    hosts = []
    for name in ("UV_INDEX_URL", "PIP_INDEX_URL", "UV_EXTRA_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        for url in os.environ.get(name, "").split():
            parts = urlsplit(url)
            if parts.hostname:
                hosts.append(f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}")
    return hosts or list(DEFAULT_INDEX_HOSTS)


def proxy_env(port: int = EGRESS_PORT) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}"
    return {"HTTPS_PROXY": url, "https_proxy": url, "HTTP_PROXY": url, "http_proxy": url, "ALL_PROXY": url}


class EgressProxy:
    """`proxy = EgressProxy(["pypi.org:443"], on_denied)`, `await proxy.start(socket_path)`, `await proxy.close()`."""

    def __init__(self, allow: list[str], on_denied: Callable[[str], None]):
        self.allow = {entry.lower() for entry in allow}
        self.on_denied = on_denied
        self.server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self, path: Path) -> None:
        self.server = await asyncio.start_unix_server(self._handle, str(path))

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.add(asyncio.current_task())
        up_writer = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            target = _connect_target(head[:_HEAD_LIMIT])
            if target is None or target.lower() not in self.allow:
                self.on_denied(target or head.split(b"\r\n", 1)[0].decode("latin-1")[:200])
                writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 30)
            up_writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError, ValueError):
            pass
        finally:
            self._tasks.discard(asyncio.current_task())
            for stream in (writer, up_writer):
                if stream is not None:
                    stream.close()
                    try:
                        await asyncio.wait_for(stream.wait_closed(), 1)
                    except (OSError, asyncio.TimeoutError):
                        pass


def _connect_target(head: bytes) -> str | None:
    """"host:port" of a well-formed CONNECT request, else None."""
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    if len(parts) != 3 or parts[0] != b"CONNECT":
        return None
    target = parts[1].decode("ascii", "replace")
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    return f"{host.strip('[]')}:{int(port)}"


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.close()
    except asyncio.CancelledError:
        writer.close()
        raise
