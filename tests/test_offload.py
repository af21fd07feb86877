"""off_loop: blocking work runs in its own thread, under a deadline, and stops when its caller is cancelled."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from mac.offload import Deadline, DeadlineExceeded, off_loop


def _cooperative(deadline: Deadline, seen: list) -> str:
    while True:
        try:
            deadline.check()
        except Exception as exc:
            seen.append(type(exc).__name__)
            raise
        time.sleep(0.01)


def test_result_and_errors_come_back_and_the_loop_keeps_running():
    async def main():
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        value = await off_loop(lambda d: (time.sleep(0.3), threading.current_thread().name)[1], seconds=10,
                               what="sleepy")
        ticker.cancel()
        with pytest.raises(ValueError, match="bad"):
            await off_loop(lambda d: (_ for _ in ()).throw(ValueError("bad")), seconds=10, what="raiser")
        return value, ticks

    name, ticks = asyncio.run(main())
    assert name == "mac-sleepy" and ticks >= 5  # the loop ran while the work blocked its own thread


def test_a_deadline_stops_cooperative_work():
    seen: list = []

    async def main():
        with pytest.raises(DeadlineExceeded, match="did not finish within 0.2s"):
            await off_loop(lambda d: _cooperative(d, seen), seconds=0.2, what="walk")

    started = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - started < 3 and seen == ["DeadlineExceeded"]


def test_cancelling_the_caller_cancels_the_work():
    seen: list = []

    async def main():
        task = asyncio.ensure_future(off_loop(lambda d: _cooperative(d, seen), seconds=None, what="walk"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert seen == ["Cancelled"]  # stopped at its next check, before the caller went on

