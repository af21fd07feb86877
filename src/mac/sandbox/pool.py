"""Warm launchers: a few processes started ahead of time, each already in its own fresh cgroup, waiting for the
command line of the next sandbox (see mac.sandbox.launcher). Taking one skips the fork of the controller and the
cgroup join, the two slow steps of a start; the pool refills in a background thread.

Entries hold no event-loop objects (plain pipes and a Popen), so one backend can serve several event loops; its
pipes are attached to the running loop only when an entry is taken. Launchers left at exit see end of input and
quit; their empty cgroups are removed by the next backend (cgroups.remove_stale).
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mac.config import SandboxLimits
from mac.sandbox import cgroups
from mac.sandbox.seccomp import filter_fd

LAUNCHER = Path(__file__).with_name("launcher.py")
_pools: dict[tuple[Any, ...], LauncherPool] = {}
_pools_lock = threading.Lock()


def pool_for(support: cgroups.CgroupSupport, seccomp: bool, variant: str = "default") -> LauncherPool:
    """The process-wide pool for this configuration (backends come and go, e.g. one per evaluation).
    `variant`: the seccomp filter variant its launchers hold (mac.sandbox.seccomp.variant_for)."""
    with _pools_lock:
        key = (support, seccomp, variant)
        if key not in _pools:
            _pools[key] = LauncherPool(support, seccomp, variant=variant)
        return _pools[key]


@dataclass
class Entry:
    popen: subprocess.Popen[bytes]
    cgroup: cgroups.Cgroup | None
    status_r: int
    """Our end of the --json-status-fd pipe."""
    status_fd: int
    """The launcher's end of it (the number bwrap's argv names)."""
    seccomp_fd: int | None
    """The launcher's fd holding the BPF program, or None."""


class LauncherPool:
    def __init__(self, support: cgroups.CgroupSupport, seccomp: bool, size: int = 2, variant: str = "default"):
        self.support, self.seccomp, self.size, self.variant = support, seccomp, size, variant
        self._ready: list[Entry] = []
        self._pending = 0
        self._lock = threading.Lock()

    def take(self) -> Entry | None:
        """A warm launcher, or None (then start the slow way); always schedules a refill."""
        with self._lock:
            entry = self._ready.pop(0) if self._ready else None
            missing = self.size - len(self._ready) - self._pending
            self._pending += max(missing, 0)
        for _ in range(max(missing, 0)):
            threading.Thread(target=self._add, daemon=True, name="mac-sandbox-launcher").start()
        return entry

    def _add(self) -> None:
        entry = None
        try:
            entry = _spawn(self.support, self.seccomp, self.variant)
        except OSError:
            pass  # the slow path still works; the next take() tries again
        with self._lock:
            self._pending -= 1
            if entry is not None:
                self._ready.append(entry)

    def close(self) -> None:
        with self._lock:
            entries, self._ready = self._ready, []
        for entry in entries:
            discard(entry)


def _spawn(support: cgroups.CgroupSupport, seccomp: bool, variant: str) -> Entry:
    # limits are written when the entry is taken; a fresh cgroup starts with the defaults
    group = cgroups.Cgroup.create(support, SandboxLimits()) if support.version is not None else None
    status_r, status_w = os.pipe()
    seccomp_fd = filter_fd(variant) if seccomp else None
    keep = [status_w] + ([seccomp_fd] if seccomp_fd is not None else [])
    procs = [str(folder / "cgroup.procs") for folder in set(group.dirs.values())] if group is not None else []
    try:
        popen = subprocess.Popen([sys.executable, "-I", "-S", str(LAUNCHER), *procs], env={}, cwd="/",
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 pass_fds=keep, start_new_session=True, umask=0o022)
    except OSError:
        os.close(status_r)
        if group is not None:
            group.remove_now()
        raise
    finally:
        for fd in keep:
            os.close(fd)
    return Entry(popen, group, status_r, status_w, seccomp_fd)


def order(entry: Entry, argv: list[str], rlimits: list[tuple[int, int]], uid: int | None, gid: int | None,
          keep_stdin: bool = False) -> None:
    """Send the launcher its one order; it execs bwrap (as the same process, so `entry.popen` is the sandbox).
    `keep_stdin`: the order pipe stays open as the sandbox's stdin (an interactive spec), else it is closed."""
    import json

    line = json.dumps({"argv": argv, "rlimits": rlimits, "uid": uid, "gid": gid, "stdin": keep_stdin}).encode()
    stdin = entry.popen.stdin
    if stdin is None:
        raise ValueError("a launcher is always started with an order pipe")
    stdin.write(line + b"\n")
    stdin.flush()
    if not keep_stdin:
        stdin.close()


def discard(entry: Entry) -> None:
    """Let an unused launcher quit (end of input) and clean up after it."""
    try:
        if entry.popen.stdin is not None:
            entry.popen.stdin.close()
        entry.popen.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        entry.popen.kill()
        entry.popen.wait()
    for stream in (entry.popen.stdout, entry.popen.stderr):
        if stream is not None:
            stream.close()
    try:
        os.close(entry.status_r)
    except OSError:
        pass  # already handed to a reader that closed it
    if entry.cgroup is not None:
        entry.cgroup.remove_now()


@atexit.register
def _close_all() -> None:
    for pool in list(_pools.values()):
        pool.close()
