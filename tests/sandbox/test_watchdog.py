"""The wall clock holds when the event loop does not: a watchdog thread kills the sandbox on time."""

from __future__ import annotations

import asyncio
import os
import select
import time

from mac.config import SandboxLimits
from mac.sandbox.base import SandboxSpec
from mac.sandbox.process import WATCHDOG_LATE_SEC


def test_a_blocked_event_loop_does_not_stretch_the_wall_clock(bwrap_backend):
    async def main():
        spec = SandboxSpec(label="watchdog", argv=["sleep", "100"], limits=SandboxLimits(wall_sec=1.0))
        process = await bwrap_backend.start(spec)
        started = time.monotonic()
        pidfd = os.pidfd_open(process.child_pid)
        try:
            # block the loop itself (as a long synchronous job would) for far longer than the wall clock
            exited = select.select([pidfd], [], [], 8.0)[0]
            died_after = time.monotonic() - started
        finally:
            os.close(pidfd)
        result = await process.wait()
        return bool(exited), died_after, result

    exited, died_after, result = asyncio.run(main())
    assert exited and died_after < 1.0 + WATCHDOG_LATE_SEC + 1.5, died_after  # not the 8 s the loop was blocked
    assert result.killed_by == "wall" and result.timed_out
    assert [e["by"] for e in result.events if e["kind"] == "wall_timeout"] == ["watchdog"]
