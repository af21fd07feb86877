"""Watch the writable binds of a running sandbox (a dev workspace, /mac/out): they live on a host filesystem that
no tmpfs size bounds, so a loop of small files could fill the host's disk. RLIMIT_FSIZE only bounds one file.

About four times a second: if the filesystem's usage grew by more than the allowance since the start, or its free
space fell under a reserve, measure the binds and report when they grew past it. A measurement is a bounded walk
(mac.sandbox.walk) in a thread of its own with a deadline, so a tree built to be slow to walk (millions of
entries, thousands of levels) is reported as exceeding the allowance, never walked forever.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import Any

from mac.errors import MacError
from mac.offload import Deadline, off_loop
from mac.sandbox.walk import LIVE_LIMITS, BoundedWalk, TreeLimits, TreeRefused

RESERVE_BYTES = 512 << 20
"""Below this much free space, any growth past a small slack counts as filling the disk."""
SLACK_BYTES = 16 << 20
INTERVAL_SEC = 0.25
MEASURE_LIMITS = LIVE_LIMITS
"""A tree past these bounds is not measured: it counts as over the allowance."""


class _Blocks(BoundedWalk):
    """Adds up the disk blocks of every entry (files, folders, links) without opening any file."""

    total = 0

    def visit(self, dir_fd: int, name: str, rel: str, st: os.stat_result) -> bool:
        self.total += st.st_blocks * 512
        return stat.S_ISDIR(st.st_mode)


def tree_bytes(root: Path, deadline: Deadline | None = None, limits: TreeLimits = MEASURE_LIMITS) -> int:
    """Disk usage of everything under `root`. Raises TreeRefused past `limits`, DeadlineExceeded past its time."""
    walk = _Blocks(limits, deadline)
    walk.run(root)
    return walk.total


def _fs_used(folder: Path) -> tuple[int, int]:
    vfs = os.statvfs(folder)
    return (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize, vfs.f_bavail * vfs.f_frsize


async def _measure(folders: list[Path]) -> int | dict[str, Any]:
    """The binds' total size, or (when the walk was refused) the refusal's detail."""
    try:
        return await off_loop(lambda d: sum(tree_bytes(f, d) for f in folders), seconds=MEASURE_LIMITS.seconds,
                              what="disk measurement")
    except TreeRefused as exc:
        return {"refused": str(exc), **exc.detail()}
    except MacError as exc:  # past its deadline
        return {"refused": str(exc), "limit": "seconds"}


async def watch_disk(folders: list[Path], allowance: int,
                     on_exceeded: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    """Runs until cancelled; calls `on_exceeded(detail)` once when the binds outgrow `allowance` bytes."""
    if not folders:
        return
    start_sizes = await _measure(folders)
    if isinstance(start_sizes, dict):
        await on_exceeded({"allowance_bytes": allowance, **start_sizes})
        return
    start_used = {f: _fs_used(f)[0] for f in folders}
    while True:
        await asyncio.sleep(INTERVAL_SEC)
        suspicious = False
        for folder in folders:
            used, free = _fs_used(folder)
            grew = used - start_used[folder]
            suspicious |= grew > allowance or (free < RESERVE_BYTES and grew > SLACK_BYTES)
        if not suspicious:
            continue
        size = await _measure(folders)
        free = min(_fs_used(f)[1] for f in folders)
        if isinstance(size, dict):
            await on_exceeded({"allowance_bytes": allowance, "free_bytes": free, **size})
            return
        growth = size - start_sizes
        if growth > allowance or (free < RESERVE_BYTES and growth > SLACK_BYTES):
            await on_exceeded({"grew_bytes": growth, "allowance_bytes": allowance, "free_bytes": free})
            return
