"""Per-sandbox cgroups: memory, pids and CPU limits, kill-all, and what the kernel counted (OOM kills, pid denials).

Detection, in order: cgroup v2 with the memory, pids and cpu controllers delegatable at the mount's root (pure
v2 hosts, as root); else cgroup v1 hierarchies for memory, pids and cpu that we can write (hybrid hosts, as root);
else none, and the backend falls back to rlimits. Sandboxes live under a `mac` parent cgroup.

Joining happens in the launched child before it drops privileges: the parent opens each `cgroup.procs` and the
child writes "0" (itself) to the inherited descriptors (`join_fds`).
"""

from __future__ import annotations

import functools
import itertools
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from mac.config import SandboxLimits

CGROUP_ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("memory", "pids", "cpu")
PARENT = "mac"
_counter = itertools.count(1)


@dataclass(frozen=True)
class CgroupSupport:
    """What this machine lets us use: version 2, 1 or None, the controllers, and why something is missing."""

    version: int | None
    controllers: tuple[str, ...] = ()
    note: str = ""


@functools.lru_cache(maxsize=1)
def detect() -> CgroupSupport:
    if os.geteuid() != 0:
        return CgroupSupport(None, note="not root: cgroups need root here; using rlimits only")
    v2 = _detect_v2()
    if v2 is not None:
        return v2
    usable = tuple(c for c in V1_CONTROLLERS if _v1_usable(c))
    if usable:
        return CgroupSupport(1, usable, "cgroup v1 (hybrid or legacy layout)")
    return CgroupSupport(None, note="no writable cgroup controllers; using rlimits only")


def _detect_v2() -> CgroupSupport | None:
    controllers_file = CGROUP_ROOT / "cgroup.controllers"
    if not controllers_file.exists():
        return None
    available = set(controllers_file.read_text().split())
    wanted = tuple(c for c in ("memory", "pids", "cpu") if c in available)
    if not wanted:
        return None
    try:
        parent = CGROUP_ROOT / PARENT
        parent.mkdir(exist_ok=True)
        _enable(CGROUP_ROOT, wanted)
        _enable(parent, wanted)
    except OSError:
        return None
    return CgroupSupport(2, wanted, "cgroup v2")


def _enable(group: Path, controllers: tuple[str, ...]) -> None:
    enabled = set((group / "cgroup.subtree_control").read_text().split())
    missing = [c for c in controllers if c not in enabled]
    if missing:
        (group / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in missing))


def _v1_usable(controller: str) -> bool:
    base = CGROUP_ROOT / controller
    if not (base / "cgroup.procs").exists():
        return False
    try:
        (base / PARENT).mkdir(exist_ok=True)
    except OSError:
        return False
    return os.access(base / PARENT, os.W_OK)


def remove_stale(support: CgroupSupport) -> int:
    """Remove empty sandbox cgroups left by controllers that died without cleaning up; returns how many."""
    parents = [CGROUP_ROOT / PARENT] if support.version == 2 else [CGROUP_ROOT / c / PARENT for c in support.controllers]
    removed = 0
    for parent in parents:
        for folder in parent.glob("sbx-*-*"):
            owner = folder.name.split("-")[1]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                try:
                    folder.rmdir()  # fails (EBUSY) while anything still runs inside: then it is not stale
                    removed += 1
                except OSError:
                    pass
    return removed


@dataclass
class Cgroup:
    """One sandbox's cgroup(s): one folder (v2) or one per v1 controller."""

    support: CgroupSupport
    dirs: dict[str, Path] = field(default_factory=dict)
    """controller -> folder (v2: every controller maps to the same folder)."""

    @classmethod
    def create(cls, support: CgroupSupport, limits: SandboxLimits) -> Cgroup:
        name = f"sbx-{os.getpid()}-{next(_counter)}"
        group = cls(support)
        try:
            if support.version == 2:
                path = CGROUP_ROOT / PARENT / name
                path.mkdir()
                group.dirs = {c: path for c in support.controllers}
            else:
                for controller in support.controllers:
                    path = CGROUP_ROOT / controller / PARENT / name
                    path.mkdir()
                    group.dirs[controller] = path
            group.apply_limits(limits)
        except OSError:
            group.remove_now()
            raise
        return group

    def apply_limits(self, limits: SandboxLimits) -> None:
        memory = limits.memory_mb << 20
        period = 100_000
        quota = max(int(limits.cpus * period), 1000)
        if self.support.version == 2:
            self._write("memory", "memory.max", memory)
            self._write("memory", "memory.swap.max", 0, optional=True)
            self._write("pids", "pids.max", limits.pids)
            self._write("cpu", "cpu.max", f"{quota} {period}")
        else:
            # memory <= memory+swap must hold at every step, whichever way the limit moves
            self._write("memory", "memory.memsw.limit_in_bytes", -1, optional=True)
            self._write("memory", "memory.limit_in_bytes", memory)
            self._write("memory", "memory.memsw.limit_in_bytes", memory, optional=True)
            self._write("pids", "pids.max", limits.pids)
            self._write("cpu", "cpu.cfs_period_us", period)
            self._write("cpu", "cpu.cfs_quota_us", quota)

    def _write(self, controller: str, name: str, value: object, optional: bool = False) -> None:
        folder = self.dirs.get(controller)
        if folder is None:
            return
        try:
            (folder / name).write_text(str(value))
        except OSError:
            if not optional:
                raise

    def join_fds(self) -> list[int]:
        """Open `cgroup.procs` of each folder for the child to write "0" into (close them after the spawn)."""
        return [os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for folder in set(self.dirs.values())]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for folder in set(self.dirs.values()):
            try:
                found.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
            except OSError:
                pass
        return found

    def kill_all(self) -> None:
        if self.support.version == 2:
            kill_file = next(iter(self.dirs.values()), None)
            if kill_file is not None and (kill_file / "cgroup.kill").exists():
                try:
                    (kill_file / "cgroup.kill").write_text("1")
                    return
                except OSError:
                    pass
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def counters(self) -> dict[str, int]:
        """What the kernel counted: `oom_kills` and `pids_denied` (0 where unknown)."""
        oom = self._keyed("memory", "memory.events" if self.support.version == 2 else "memory.oom_control")
        pids = self._keyed("pids", "pids.events")
        counts = {"oom_kills": oom.get("oom_kill", 0), "pids_denied": pids.get("max", 0)}
        if self.support.version == 1 and "memory" in self.dirs:
            counts["memory_failcnt"] = self._int("memory", "memory.failcnt")
            counts["memory_max_usage"] = self._int("memory", "memory.max_usage_in_bytes")
        return counts

    def _keyed(self, controller: str, name: str) -> dict[str, int]:
        folder = self.dirs.get(controller)
        if folder is None:
            return {}
        try:
            lines = (folder / name).read_text().splitlines()
        except OSError:
            return {}
        return {k: int(v) for k, v in (line.split() for line in lines if len(line.split()) == 2) if v.isdigit()}

    def _int(self, controller: str, name: str) -> int:
        try:
            return int((self.dirs[controller] / name).read_text())
        except (OSError, ValueError, KeyError):
            return 0

    def remove_later(self, on_failure: Callable[[list[str]], None], timeout: float = 5.0) -> None:
        """Remove the folders in a background thread: removing a used memory cgroup (v1) takes ~5-15 ms in the
        kernel, and the result need not wait for it. Kills stragglers between tries; reports folders left over."""
        def work() -> None:
            deadline = time.monotonic() + timeout
            while not self.remove_now():
                if time.monotonic() > deadline:
                    on_failure([str(d) for d in self.dirs.values()])
                    return
                self.kill_all()
                time.sleep(0.005)

        threading.Thread(target=work, daemon=True, name="mac-cgroup-remove").start()

    def remove_now(self) -> bool:
        for controller, folder in list(self.dirs.items()):
            try:
                folder.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                continue
            del self.dirs[controller]
        return not self.dirs
