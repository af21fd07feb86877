"""A token's meter: its usage, its limits, and the reservations of its requests in flight.

Rates (requests, concurrent, rpm, tpm) are checked when a request is admitted. Budgets (input tokens, output
tokens, cost) are hard: before a request goes upstream the meter reserves its worst case, and settles to what it
used afterwards, so requests in flight together can never spend more than is left.

The worst case of a request:
- input: its body's size in bytes (a text tokenizer makes at most one token per byte, and the JSON around the
  messages outweighs a chat template's extra tokens);
- output: per choice, the client's max_tokens / max_completion_tokens, else the backend's `max_output_tokens`
  (the model's limit), clamped to what the budgets leave (the upstream is then told the smaller cap);
- cost: both at the backend's prices.
A request whose worst case fits what is left, but not beside the reservations in flight, waits for them to settle.
The guarantee holds as long as the upstream honours max_tokens; usage is always what the upstream reports.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mac.config import Quota
from mac.errors import QuotaExceeded
from mac.gateway.backend import Backend
from mac.gateway.grants import Grant
from mac.records import Usage

WINDOW_SEC = 60.0
"""Length of the rolling window of `rpm` and `tpm`."""
BUDGETS = ("input_tokens", "output_tokens", "cost_usd")
_COST_SLACK = 1e-9
"""Float rounding allowed on cost sums (USD)."""


@dataclass(slots=True)
class Reservation:
    """What a request holds of each budget while in flight, and the output cap the upstream must get."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cap: int | None = None
    """Most output tokens per choice when the budgets leave less than asked (None: the request as it is)."""


NOTHING = Reservation()
"""The reservation of a token without budgets."""


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
    """Usage and limits of one token, and the backend its calls go to (see the module docstring)."""

    grant: Grant
    quota: Quota
    backend: Backend
    usage: Usage = field(default_factory=Usage)
    in_flight: int = 0
    revoked: bool = False
    held: Reservation = field(default_factory=Reservation)
    """The sum of the reservations in flight."""
    _requests: _Window = field(default_factory=_Window)
    _tokens: _Window = field(default_factory=_Window)
    _room: asyncio.Future[None] | None = None

    def __post_init__(self) -> None:
        # Only the limits that are set are checked on each request (unlimited tokens pay nothing).
        self.has_budgets = any(getattr(self.quota, name) is not None for name in BUDGETS)

    # ---- admission -------------------------------------------------------------------------------------------

    def admit(self, n: int, input_estimate: int) -> None:
        """Count a request of `n` choices against the rates, or raise QuotaExceeded naming the first it breaks."""
        q = self.quota
        if q.requests is not None and self.usage.requests + n > q.requests:
            raise QuotaExceeded("requests", self.usage.requests + n, q.requests)
        if q.concurrent is not None and self.in_flight + 1 > q.concurrent:
            raise QuotaExceeded("concurrent", self.in_flight + 1, q.concurrent)
        if q.rpm is not None or q.tpm is not None:
            self._admit_windows(n, input_estimate)
        self.usage.requests += n
        self.in_flight += 1

    def _admit_windows(self, n: int, input_estimate: int) -> None:
        now = time.monotonic()
        for name, limit, asked in (("rpm", self.quota.rpm, n), ("tpm", self.quota.tpm, input_estimate)):
            used = self._live(name, now)
            if limit is not None and used + asked > limit:
                raise QuotaExceeded(name, used + asked, limit)
        if self.quota.rpm is not None:
            self._requests.add(now, n)

    def try_reserve(self, n: int, input_worst: int, wanted: int) -> Reservation | None:
        """`reserve` without waiting: the reservation, or None when it must wait for room (QuotaExceeded when it
        cannot fit at all). Most calls end here."""
        if not self.has_budgets or self.revoked:
            return NOTHING
        plan = self._plan(n, input_worst, wanted)
        if self._fits(plan):
            self._hold(plan, 1)
            return plan
        return None

    async def reserve(self, n: int, input_worst: int, wanted: int, timeout: float) -> Reservation:
        """Hold the worst case of an admitted request (`wanted` output tokens per choice) against the budgets,
        waiting up to `timeout` s for reservations in flight to settle; QuotaExceeded when it cannot fit."""
        if not self.has_budgets:
            return NOTHING
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.revoked:
                return NOTHING  # the caller refuses it
            plan = self._plan(n, input_worst, wanted)
            if self._fits(plan):
                self._hold(plan, 1)
                return plan
            if self._room is None or self._room.done():
                self._room = loop.create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._room), deadline - loop.time())
            except TimeoutError:
                name = next(b for b in BUDGETS if not self._fits_budget(b, plan))
                raise QuotaExceeded(name, self._used(name) + self._held(name) + getattr(plan, name),
                                    getattr(self.quota, name), held=True) from None

    def _plan(self, n: int, input_worst: int, wanted: int) -> Reservation:
        """The worst case against what the budgets leave (reservations aside): output clamped, else QuotaExceeded."""
        q, used, cap = self.quota, self.usage, wanted
        if q.input_tokens is not None and used.input_tokens + input_worst > q.input_tokens:
            raise QuotaExceeded("input_tokens", used.input_tokens + input_worst, q.input_tokens)
        if q.output_tokens is not None:
            cap = min(cap, (q.output_tokens - used.output_tokens) // n)
            if cap < 1:
                raise QuotaExceeded("output_tokens", used.output_tokens + n, q.output_tokens)
        cost = 0.0
        if q.cost_usd is not None:
            left = q.cost_usd - used.cost_usd - self.backend.cost(input_worst, 0)
            price = self.backend.price_output_per_mtok
            if price > 0:
                cap = min(cap, math.floor(left * 1e6 / (n * price) + 1e-6))
            if left < -_COST_SLACK or cap < 1:
                raise QuotaExceeded("cost_usd", used.cost_usd + self.backend.cost(input_worst, n), q.cost_usd)
            cost = self.backend.cost(input_worst, cap * n)
        return Reservation(input_worst if q.input_tokens is not None else 0,
                           cap * n if q.output_tokens is not None else 0, cost, cap if cap < wanted else None)

    def _fits(self, plan: Reservation) -> bool:
        """Does `plan` fit beside the reservations in flight? (Spelled out: it runs on every call.)"""
        q, used, held = self.quota, self.usage, self.held
        return ((q.input_tokens is None or used.input_tokens + held.input_tokens + plan.input_tokens <= q.input_tokens)
                and (q.output_tokens is None
                     or used.output_tokens + held.output_tokens + plan.output_tokens <= q.output_tokens)
                and (q.cost_usd is None or used.cost_usd + held.cost_usd + plan.cost_usd <= q.cost_usd + _COST_SLACK))

    def _fits_budget(self, name: str, plan: Reservation) -> bool:
        limit = getattr(self.quota, name)
        slack = _COST_SLACK if name == "cost_usd" else 0
        return limit is None or self._used(name) + self._held(name) + getattr(plan, name) <= limit + slack

    def _used(self, name: str) -> float:
        return getattr(self.usage, name)

    def _held(self, name: str) -> float:
        return getattr(self.held, name)

    def revoke(self) -> None:
        """Refuse the token from now on; requests waiting for room wake up to be refused."""
        self.revoked = True
        self._wake()

    def _wake(self) -> None:
        if self._room is not None and not self._room.done():
            self._room.set_result(None)

    def _hold(self, plan: Reservation, sign: int) -> None:
        held = self.held
        held.input_tokens += sign * plan.input_tokens
        held.output_tokens += sign * plan.output_tokens
        held.cost_usd += sign * plan.cost_usd
        if sign < 0:
            self._wake()  # the requests waiting for room look again

    # ---- settlement ------------------------------------------------------------------------------------------

    def settle(self, plan: Reservation, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        """Record what an admitted request used, release its reservation and its concurrency slot."""
        self.in_flight -= 1
        if plan is not NOTHING:
            self._hold(plan, -1)
        self.usage.input_tokens += input_tokens
        self.usage.output_tokens += output_tokens
        self.usage.cost_usd += cost_usd
        if self.quota.tpm is not None:
            self._tokens.add(time.monotonic(), input_tokens + output_tokens)

    def refund(self, n: int, plan: Reservation = NOTHING) -> None:
        """An admitted request failed upstream or was refused a reservation: it costs no requests (the rpm window
        keeps it, against retry storms)."""
        self.in_flight -= 1
        self.usage.requests -= n
        if plan is not NOTHING:
            self._hold(plan, -1)

    # ---- reading ---------------------------------------------------------------------------------------------

    def _live(self, name: str, now: float) -> float:
        if name == "concurrent":
            return self.in_flight
        if name == "rpm":
            return self._requests.current(now)
        if name == "tpm":
            return self._tokens.current(now)
        return getattr(self.usage, name)

    def used(self, quota_name: str) -> float:
        return self._live(quota_name, time.monotonic())

    def stats(self) -> dict[str, Any]:
        """What GET /v1/stats shows the token's holder."""
        limits = self.quota.model_dump()
        remaining = {name: (None if limit is None else max(0, limit - self.used(name))) for name, limit in limits.items()}
        return {"token_id": self.grant.token_id, "phase": self.grant.phase, "label": self.grant.label,
                "usage": self.usage.model_dump(), "quota": limits, "remaining": remaining, "in_flight": self.in_flight,
                "reserved": {name: getattr(self.held, name) for name in BUDGETS}}
