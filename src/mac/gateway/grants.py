"""Grants (per-phase bearer tokens) and their meters: quota admission, accounting, rolling windows."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mac.config import Quota
from mac.errors import QuotaExceeded
from mac.gateway.backend import Backend
from mac.records import Usage

WINDOW_SEC = 60.0
"""Length of the rolling window of `rpm` and `tpm`."""


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


def _asked(quota_name: str, n: int, input_estimate: int) -> float:
    """What one request asks of a quota before it runs (output and cost are only known afterwards)."""
    if quota_name in ("requests", "rpm"):
        return n
    if quota_name in ("input_tokens", "tpm"):
        return input_estimate
    if quota_name == "cost_usd":
        return 1e-12  # refused once the spend has reached the cap
    return 1  # concurrent: one more in flight; output_tokens: at least one more token


class _Window:
    """Amounts seen in the last WINDOW_SEC seconds."""

    def __init__(self) -> None:
        self._events: deque[tuple[float, int]] = deque()
        self.total = 0

    def add(self, now: float, amount: int) -> None:
        if amount:
            self._events.append((now, amount))
            self.total += amount

    def current(self, now: float) -> int:
        cutoff = now - WINDOW_SEC
        while self._events and self._events[0][0] <= cutoff:
            self.total -= self._events.popleft()[1]
        return self.total


@dataclass
class Meter:
    """Usage and limits of one token, and the backend its calls go to. Admission happens before the upstream
    call, settlement after it."""

    grant: Grant
    quota: Quota
    backend: Backend
    usage: Usage = field(default_factory=Usage)
    in_flight: int = 0
    revoked: bool = False
    _requests: _Window = field(default_factory=_Window)
    _tokens: _Window = field(default_factory=_Window)

    def __post_init__(self) -> None:
        # Only the limits that are set are checked on each request (unlimited tokens pay nothing).
        self._active = [(name, limit) for name, limit in self.quota.model_dump().items() if limit is not None]

    def admit(self, n: int, input_estimate: int) -> None:
        """Reserve a request of `n` choices, or raise QuotaExceeded naming the first limit it would break."""
        now = time.monotonic()
        for name, limit in self._active:
            used = self._live(name, now)
            asked = _asked(name, n, input_estimate)
            if used + asked > limit:
                raise QuotaExceeded(name, used + asked, limit)
        self.usage.requests += n
        self.in_flight += 1
        if self.quota.rpm is not None:
            self._requests.add(now, n)

    def _live(self, name: str, now: float) -> float:
        if name == "concurrent":
            return self.in_flight
        if name == "rpm":
            return self._requests.current(now)
        if name == "tpm":
            return self._tokens.current(now)
        return getattr(self.usage, name)

    def output_cap(self, n: int) -> int | None:
        """The most output tokens one choice may still produce (None: no output quota)."""
        if self.quota.output_tokens is None:
            return None
        return max(1, math.ceil((self.quota.output_tokens - self.usage.output_tokens) / n))

    def settle(self, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        """Record what an admitted request used and free its concurrency slot."""
        self.in_flight -= 1
        self.usage.input_tokens += input_tokens
        self.usage.output_tokens += output_tokens
        self.usage.cost_usd += cost_usd
        if self.quota.tpm is not None:
            self._tokens.add(time.monotonic(), input_tokens + output_tokens)

    def refund(self, n: int) -> None:
        """An admitted request failed upstream: it costs no requests (the rpm window keeps it, against retry storms)."""
        self.in_flight -= 1
        self.usage.requests -= n

    def used(self, quota_name: str) -> float:
        return self._live(quota_name, time.monotonic())

    def stats(self) -> dict[str, Any]:
        """What GET /v1/stats shows the token's holder."""
        limits = self.quota.model_dump()
        remaining = {name: (None if limit is None else max(0, limit - self.used(name))) for name, limit in limits.items()}
        return {"token_id": self.grant.token_id, "phase": self.grant.phase, "label": self.grant.label,
                "usage": self.usage.model_dump(), "quota": limits, "remaining": remaining, "in_flight": self.in_flight}
