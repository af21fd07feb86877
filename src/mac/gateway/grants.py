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
from mac.records import Usage

WINDOW_SEC = 60.0
"""Length of the rolling window of `rpm` and `tpm`."""


@dataclass(frozen=True)
class Grant:
    """A bearer token for one phase. `token` is secret (goes into one sandbox's env); `token_id` goes into logs."""

    token: str
    token_id: str
    phase: str
    label: str = ""


def new_grant(phase: str, label: str, serial: int) -> Grant:
    token = "mac-" + secrets.token_urlsafe(32)
    return Grant(token=token, token_id=f"{phase}-{serial}", phase=phase, label=label)


def token_fingerprint(token: str) -> str:
    """A short hash of an unknown token for evidence: enough to correlate attempts, useless to replay."""
    return hashlib.sha256(token.encode()).hexdigest()[:12]


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
    """Usage and limits of one token. Admission happens before the upstream call, settlement after it."""

    grant: Grant
    quota: Quota
    usage: Usage = field(default_factory=Usage)
    in_flight: int = 0
    revoked: bool = False
    _requests: _Window = field(default_factory=_Window)
    _tokens: _Window = field(default_factory=_Window)

    def admit(self, n: int, input_estimate: int) -> None:
        """Reserve a request of `n` choices, or raise QuotaExceeded naming the first limit it would break."""
        q, u, now = self.quota, self.usage, time.monotonic()
        checks: list[tuple[str, float | None, float, float]] = [
            ("requests", q.requests, u.requests, n),
            ("concurrent", q.concurrent, self.in_flight, 1),
            ("rpm", q.rpm, self._requests.current(now), n),
            ("input_tokens", q.input_tokens, u.input_tokens, input_estimate),
            ("output_tokens", q.output_tokens, u.output_tokens, 1),
            ("tpm", q.tpm, self._tokens.current(now), input_estimate),
            ("cost_usd", q.cost_usd, u.cost_usd, 1e-12),
        ]
        for name, limit, used, asked in checks:
            if limit is not None and used + asked > limit:
                raise QuotaExceeded(name, used + asked, limit)
        u.requests += n
        self.in_flight += 1
        self._requests.add(now, n)

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
        self._tokens.add(time.monotonic(), input_tokens + output_tokens)

    def refund(self, n: int) -> None:
        """An admitted request failed upstream: it costs no requests (the rpm window keeps it, against retry storms)."""
        self.in_flight -= 1
        self.usage.requests -= n

    def used(self, quota_name: str) -> float:
        now = time.monotonic()
        live = {"concurrent": self.in_flight, "rpm": self._requests.current(now), "tpm": self._tokens.current(now)}
        return live[quota_name] if quota_name in live else getattr(self.usage, quota_name)

    def stats(self) -> dict[str, Any]:
        """What GET /v1/stats shows the token's holder."""
        limits = self.quota.model_dump()
        remaining = {name: (None if limit is None else max(0, limit - self.used(name))) for name, limit in limits.items()}
        return {"token_id": self.grant.token_id, "phase": self.grant.phase, "label": self.grant.label,
                "usage": self.usage.model_dump(), "quota": limits, "remaining": remaining, "in_flight": self.in_flight}
