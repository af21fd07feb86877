"""Attacks on the sandbox start: a meta-agent times `kill_running` so that an evaluation is cancelled while its
sandbox is starting. The start must then leave nothing running (no untracked sandbox without a wall clock, on a
uid handed to the next sandbox), leak no descriptor, and never block the controller's event loop."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

from mac.config import SandboxLimits
from mac.sandbox.base import SandboxProcess, SandboxSpec

from attackkit import assert_controller_works

DELAYS = (0.0, 0.001, 0.002, 0.004, 0.006, 0.01, 0.015, 0.02, 0.03)
AT_ONCE = 4
"""More starts at once than the warm pool holds, so both the warm and the cold start paths are cut short."""


def _processes_with(marker: str) -> list[str]:
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                cmdline = fh.read()
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != b"Z":
            found.append(f"{entry.name}: {cmdline[:80]!r}")
    return found


def test_a_start_cancelled_at_any_moment_leaves_nothing_running(bwrap_backend):
    marker = uuid.uuid4().hex
    spec = SandboxSpec(label="cancelled-start", argv=["python", "-c", f"import time; time.sleep(120)  # {marker}"],
                       limits=SandboxLimits(wall_sec=150))

    async def main() -> float:
        worst_stall = 0.0

        async def ticker() -> None:
            nonlocal worst_stall
            while True:
                before = time.monotonic()
                await asyncio.sleep(0.01)
                worst_stall = max(worst_stall, time.monotonic() - before)

        watch = asyncio.ensure_future(ticker())
        try:
            for delay in DELAYS:
                starts = [asyncio.ensure_future(bwrap_backend.start(spec)) for _ in range(AT_ONCE)]
                await asyncio.sleep(delay)
                for start in starts:
                    start.cancel()
                for outcome in await asyncio.gather(*starts, return_exceptions=True):
                    if isinstance(outcome, SandboxProcess):  # it had started: a normal kill
                        await outcome.kill("test over")
                        await outcome.wait()
        finally:
            watch.cancel()
        return worst_stall

    worst_stall = asyncio.run(main())
    time.sleep(0.5)
    assert _processes_with(marker) == []
    assert worst_stall < 2.0, f"the event loop was blocked for {worst_stall:.1f}s by a cancelled start"
    assert_controller_works(bwrap_backend)
