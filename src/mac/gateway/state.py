"""The gateway's shared state and the authentication rules every endpoint applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from mac.evidence import EvidenceLog
from mac.gateway.calllog import CallLog
from mac.gateway.grants import token_fingerprint
from mac.gateway.meter import Meter
from mac.gateway.wire import error_response


@dataclass
class Channel:
    """A unix socket handed to one sandbox; only `token` may be used on it."""

    path: Path
    token: str
    label: str
    site: web.BaseSite | None = None


@dataclass
class Caller:
    """Who is calling: the token's meter and where the call came in ("tcp" or the channel's label)."""

    meter: Meter
    where: str


@dataclass
class GatewayState:
    model_name: str
    log: CallLog
    evidence: EvidenceLog | None
    meters: dict[str, Meter] = field(default_factory=dict)
    """token -> meter (revoked tokens stay, marked)."""
    channels: dict[str, Channel] = field(default_factory=dict)
    """socket path -> channel."""

    def record(self, kind: str, where: str, **detail: Any) -> None:
        if self.evidence is not None:
            self.evidence.add("gateway", kind, label=where, **detail)

    def authorize(self, request: web.Request) -> Caller | web.Response:
        """The caller of `request`, or the 401 to send (recording evidence for tokens misused on a channel)."""
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        transport = request.transport
        sockname = transport.get_extra_info("sockname") if transport is not None else None
        on_unix = isinstance(sockname, (str, bytes))
        channel = self.channels.get(sockname) if isinstance(sockname, str) else None
        where = channel.label if channel else ("tcp" if not on_unix else "closed-channel")
        if on_unix and channel is None:
            return self._refuse(request, where, "this channel is closed")
        meter = self.meters.get(token)
        if meter is None:
            if channel is not None:
                self.record("unknown_token", where, path=request.path, channel=where,
                            token_fingerprint=token_fingerprint(token) if token else None)
            return self._refuse(request, where, "missing bearer token" if not token else "unknown token")
        if meter.revoked:
            self.record("revoked_token", where, path=request.path, channel=where, token_id=meter.grant.token_id,
                        phase=meter.grant.phase)
            meter.usage.refused += 1
            return self._refuse(request, where, "this token was revoked (its phase is over)", meter)
        if channel is not None and channel.token != token:
            owner = self.meters.get(channel.token)
            self.record("foreign_token", where, path=request.path, channel=where, token_id=meter.grant.token_id,
                        channel_token_id=owner.grant.token_id if owner else None,
                        message="a token granted to another sandbox or phase was used on this channel")
            meter.usage.refused += 1
            return self._refuse(request, where, "this token is not valid on this channel", meter)
        return Caller(meter, where)

    def _refuse(self, request: web.Request, where: str, message: str, meter: Meter | None = None) -> web.Response:
        grant = meter.grant if meter else None
        self.log.write(phase=grant.phase if grant else None, token_id=grant.token_id if grant else None,
                       label=grant.label if grant else None, channel=where, path=request.path, status=401,
                       error="unauthorized")
        return error_response(401, "invalid_api_key", message)
