"""The Gateway object: lifecycle, grants, per-sandbox unix-socket channels and the optional TCP listener."""

from __future__ import annotations

import os
from pathlib import Path
from collections.abc import Mapping

from aiohttp import web

from mac.config import Quota
from mac.errors import GatewayError
from mac.evidence import EvidenceLog
from mac.gateway.backend import Backend
from mac.gateway.calllog import CallLog
from mac.gateway.grants import Grant, new_grant
from mac.gateway.handlers import Handlers
from mac.gateway.meter import Meter
from mac.gateway.state import Channel, GatewayState
from mac.records import Usage

_MAX_SOCKET_PATH = 107  # sun_path holds 108 bytes including the NUL
_MAX_BODY = 64 << 20


class Gateway:
    """An OpenAI-compatible proxy in front of `backend` (see the package docstring for the contract)."""

    def __init__(self, backend: Backend, model_name: str, log_path: Path | None, socket_dir: Path,
                 evidence: EvidenceLog | None = None, tcp_port: int | None = None, *,
                 phase_backends: Mapping[str, Backend] | None = None):
        self.backend = backend
        self.phase_backends = dict(phase_backends or {})
        self.model_name = model_name
        self.socket_dir = Path(socket_dir)
        self.log_path = Path(log_path) if log_path is not None else None
        self.tcp_port = tcp_port
        self.tcp_url: str | None = None
        self._state = GatewayState(model_name, CallLog(log_path), evidence)
        self._runner: web.AppRunner | None = None
        self._serial = 0
        self._channel_serial = 0

    # ---- lifecycle -------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            return
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o711)
        app = web.Application(client_max_size=_MAX_BODY)
        app.add_routes(Handlers(self._state).routes())
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5.0)
        await self._runner.setup()
        self._state.log.open()
        for backend in self._backends():
            await backend.start()
        if self.tcp_port is not None:
            site = web.TCPSite(self._runner, "127.0.0.1", self.tcp_port)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.tcp_url = f"http://127.0.0.1:{port}/v1"

    async def close(self) -> None:
        if self._runner is None:
            return
        for path in list(self._state.channels):
            await self.close_channel(Path(path))
        await self._runner.cleanup()
        self._runner = None
        self.tcp_url = None
        for backend in self._backends():
            await backend.close()
        self._state.log.close()

    def _backends(self) -> list[Backend]:
        """Every distinct backend (phases may share one)."""
        return list({id(b): b for b in (self.backend, *self.phase_backends.values())}.values())

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- grants ----------------------------------------------------------------------------------------------------

    def grant(self, phase: str, quota: Quota, label: str = "") -> Grant:
        """A new bearer token for `phase`, metered against `quota`; its calls go to `phase_backends[phase]`,
        else to `backend`."""
        self._serial += 1
        grant = new_grant(phase, label, self._serial)
        backend = self.phase_backends.get(phase, self.backend)
        self._state.meters[grant.token] = Meter(grant, quota.model_copy(), backend)
        return grant

    def revoke(self, token: str) -> None:
        """From now on every request with `token` gets 401 (and is recorded as evidence)."""
        self._meter(token).revoke()

    def usage(self, token: str) -> Usage:
        """What `token` has used so far (a copy)."""
        return self._meter(token).usage.model_copy()

    def _meter(self, token: str) -> Meter:
        meter = self._state.meters.get(token)
        if meter is None:
            raise GatewayError("unknown gateway token: use a token returned by Gateway.grant()")
        return meter

    # ---- channels --------------------------------------------------------------------------------------------------

    async def open_channel(self, token: str, label: str) -> Path:
        """A new unix socket for one sandbox, accepting only `token`; any uid may connect (0666 in a 0711 dir)."""
        if self._runner is None:
            raise GatewayError("the gateway is not started: use `async with Gateway(...)` or `await gateway.start()`")
        self._meter(token)
        folder = self._new_channel_folder()
        path = folder / "gw.sock"
        site = web.UnixSite(self._runner, str(path))
        await site.start()
        path.chmod(0o666)
        self._state.channels[str(path)] = Channel(path, token, label, site)
        return path

    def _new_channel_folder(self) -> Path:
        """A fresh 0711 folder under socket_dir (sandboxes bind the folder, not the socket inode)."""
        while True:
            self._channel_serial += 1
            folder = self.socket_dir / f"c{self._channel_serial}"
            if len(os.fsencode(folder / "gw.sock")) > _MAX_SOCKET_PATH:
                raise GatewayError(f"socket path {folder}/gw.sock is too long for a unix socket; use a shorter socket_dir")
            try:
                folder.mkdir(mode=0o711)
            except FileExistsError:  # left by an earlier gateway in the same socket_dir
                continue
            folder.chmod(0o711)
            return folder

    async def close_channel(self, sock: Path) -> None:
        """Stop listening on `sock` and remove it; requests on connections still open get 401."""
        channel = self._state.channels.pop(str(sock), None)
        if channel is None:
            return
        if channel.site is not None:
            await channel.site.stop()
        channel.path.unlink(missing_ok=True)
        try:
            channel.path.parent.rmdir()
        except OSError:
            pass
