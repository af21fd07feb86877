"""Blocking work on untrusted input, run off the event loop with a deadline and cancellation.

    snapshot = await off_loop(lambda deadline: snapshot_workspace(src, dst, deadline=deadline),
                              seconds=120, what="snapshot")

The controller serves every trial's gateway, evaluation service and timers from one event loop, so anything
whose cost an untrusted party controls (walking, copying or hashing a workspace, reading a log a sandbox wrote)
runs here instead: in a thread of its own (never the loop's shared executor, which stuck jobs could fill), with
a `Deadline` that the work checks at every step. Cancelling the awaiting task, or passing `seconds`, cancels the
deadline, so cooperative work stops at its next check; work that does not stop within `GRACE_SEC` is left to
finish alone (its thread is a daemon) while the caller moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any, TypeVar
from collections.abc import Callable

from mac.errors import MacError

T = TypeVar("T")

GRACE_SEC = 5.0
"""How long past its deadline (or its cancellation) the caller waits for the work to stop by itself."""


class Cancelled(MacError):
    """The work's deadline was cancelled (its caller stopped waiting)."""


class DeadlineExceeded(MacError):
    """The work ran past its time limit; `what` names it and `seconds` is the limit."""

    def __init__(self, what: str, seconds: float):
        super().__init__(f"{what} did not finish within {seconds:g}s (a tree or log too large to handle in time?); "
                         "it was stopped and recorded")
        self.what, self.seconds = what, seconds


class Deadline:
    """A time limit plus a cancel switch, safe to check from any thread. `seconds=None`: no time limit."""

    def __init__(self, seconds: float | None = None, what: str = "operation"):
        self.seconds, self.what = seconds, what
        self.at = None if seconds is None else time.monotonic() + seconds
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def left(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def check(self) -> None:
        """Raise Cancelled or DeadlineExceeded when the work must stop."""
        if self._cancelled.is_set():
            raise Cancelled(f"{self.what} was cancelled")
        if self.at is not None and time.monotonic() > self.at:
            raise DeadlineExceeded(self.what, self.seconds or 0.0)


async def off_loop(work: Callable[[Deadline], T], *, seconds: float | None, what: str) -> T:
    """Run `work(deadline)` in a daemon thread and await its result without blocking the loop.

    Raises what `work` raises; DeadlineExceeded when it is still running `GRACE_SEC` after `seconds`.
    Cancelling the caller cancels the deadline and waits up to GRACE_SEC for the work to stop (so a cooperative
    job cleans up after itself before the caller goes on), then re-raises CancelledError."""
    loop = asyncio.get_running_loop()
    deadline = Deadline(seconds, what)
    done: asyncio.Future[Any] = loop.create_future()

    def settle(value: object, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(value)

    def run() -> None:
        value, error = None, None
        try:
            value = work(deadline)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=run, name=f"mac-{what}", daemon=True).start()
    try:
        return await asyncio.wait_for(asyncio.shield(done), None if seconds is None else seconds + GRACE_SEC)
    except TimeoutError:
        deadline.cancel()
        done.add_done_callback(_consume)
        raise DeadlineExceeded(what, seconds or 0.0) from None
    except asyncio.CancelledError:
        deadline.cancel()
        done.add_done_callback(_consume)
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(done), GRACE_SEC)
        raise


def _consume(future: asyncio.Future[Any]) -> None:
    """Read a late outcome nobody awaits any more (no 'exception was never retrieved' warning)."""
    if not future.cancelled():
        future.exception()
