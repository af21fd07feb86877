"""Watch the writable binds of a running sandbox (a dev workspace, /mac/out): they live on a host filesystem that
no tmpfs size bounds, so a loop of small files could fill the host's disk. RLIMIT_FSIZE only bounds one file.

About once a second: if the filesystem's usage grew by more than the allowance since the start, or its free
space fell under a reserve, measure the binds (walking by fds, in a thread) and report when they grew past it.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Awaitable, Callable

RESERVE_BYTES = 512 << 20
"""Below this much free space, any growth past a small slack counts as filling the disk."""
SLACK_BYTES = 16 << 20
INTERVAL_SEC = 0.25


def tree_bytes(root: Path) -> int:
    total = 0
    for _dirpath, _dirnames, filenames, dirfd in os.fwalk(root, follow_symlinks=False):
        for name in filenames:
            try:
                total += os.stat(name, dir_fd=dirfd, follow_symlinks=False).st_blocks * 512
            except OSError:
                pass
    return total


def _fs_used(folder: Path) -> tuple[int, int]:
    vfs = os.statvfs(folder)
    return (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize, vfs.f_bavail * vfs.f_frsize


async def watch_disk(folders: list[Path], allowance: int,
                     on_exceeded: Callable[[dict], Awaitable[None]]) -> None:
    """Runs until cancelled; calls `on_exceeded(detail)` once when the binds outgrow `allowance` bytes."""
    if not folders:
        return
    start_sizes = await asyncio.to_thread(lambda: sum(tree_bytes(f) for f in folders))
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
        size = await asyncio.to_thread(lambda: sum(tree_bytes(f) for f in folders))
        growth = size - start_sizes
        free = min(_fs_used(f)[1] for f in folders)
        if growth > allowance or (free < RESERVE_BYTES and growth > SLACK_BYTES):
            await on_exceeded({"grew_bytes": growth, "allowance_bytes": allowance, "free_bytes": free})
            return
