"""Grants: per-phase bearer tokens (their meters are in mac.gateway.meter)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Grant:
    """A bearer token for one phase. `token` is secret (goes into one sandbox's env); `token_id` goes into logs."""

    token: str = field(repr=False)  # a logged Grant must not carry its secret
    token_id: str = field()
    phase: str
    label: str = ""


def new_grant(phase: str, label: str, serial: int) -> Grant:
    token = "mac-" + secrets.token_urlsafe(32)
    return Grant(token=token, token_id=f"{phase}-{serial}", phase=phase, label=label)


def token_fingerprint(token: str) -> str:
    """A short hash of an unknown token for evidence: enough to correlate attempts, useless to replay."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]
