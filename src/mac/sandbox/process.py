"""A started bwrap sandbox: waits for it under its wall clock, kills its whole pid namespace, watches disk growth,
then cleans up (cgroup, slot, egress proxy) and turns what the kernel counted into events and evidence.

The wall clock is enforced twice: by the event loop (which records the kill as it happens) and by a watchdog
thread (mac.sandbox.watchdog) that kills the sandbox WATCHDOG_LATE_SEC after the wall limit even if the loop is
busy, so a development phase or an evaluation ends on time whatever else the controller is doing."""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

from mac.errors import SandboxError
from mac.sandbox import cgroups
from mac.sandbox.base import SandboxProcess, SandboxResult, SandboxSpec
from mac.sandbox.capture import Capture
from mac.sandbox.diskwatch import watch_disk
from mac.sandbox.host import FIX
from mac.sandbox.launch import Launched
from mac.sandbox.uids import Slot, processes_of
from mac.sandbox.watchdog import Watchdog

if TYPE_CHECKING:
    from mac.sandbox.bwrap import BwrapBackend

START_TIMEOUT_SEC = 30.0
KILL_GRACE_SEC = 2.0
DRAIN_SEC = 2.0
WATCHDOG_LATE_SEC = 1.0
"""The watchdog thread kills this long after the wall limit (the loop normally kills first, and says why)."""
SIGNAL_NAMES: dict[int, str] = {signal.SIGSYS: "seccomp_kill", signal.SIGXFSZ: "file_size_limit", signal.SIGXCPU: "cpu_limit"}


class BwrapProcess(SandboxProcess):
    """A started bwrap sandbox. `pid` is the outer bwrap, `child_pid` the sandbox's pid 1 (host view)."""

    def __init__(self, backend: BwrapBackend, spec: SandboxSpec, proc: Launched, slot: Slot,
                 cgroup: cgroups.Cgroup | None):
        self.backend, self.spec, self.proc, self.slot, self.cgroup = backend, spec, proc, slot, cgroup
        self.status = proc.status
        self.pid, self.uid = proc.pid, slot.uid
        self.child_pid: int | None = None
        self._pidfd: int | None = None
        self._pidfd_lock = threading.Lock()
        self._watchdog: Watchdog | None = None
        limit = spec.limits.output_bytes
        self.stdout = Capture(None if spec.interactive else proc.stdout, limit)
        self.stderr = Capture(proc.stderr, limit)
        self.started = time.monotonic()
        self.killed_by: str | None = None
        self.events: list[dict[str, Any]] = []
        self._task: asyncio.Future[SandboxResult] | None = None
        self.egress: tuple | None = None
        """(EgressProxy, its folder) when the spec allowed the package index."""

    async def _await_child(self) -> None:
        """Wait until bwrap reports the sandbox's pid 1; if it exits first, the machine cannot sandbox."""
        while True:
            line = await asyncio.wait_for(self.status.readline(), START_TIMEOUT_SEC)
            if not line:
                await self.proc.wait()
                await self.stderr.finish(DRAIN_SEC)
                raise SandboxError(f"bwrap could not start the sandbox (exit {self.proc.returncode}): "
                                   f"{self.stderr.text().strip()[-800:]}; {FIX}")
            info = json.loads(line)
            if "child-pid" in info:
                self.child_pid = child_pid = int(info["child-pid"])
                try:
                    self._pidfd = os.pidfd_open(child_pid)
                except OSError:
                    self._pidfd = None  # already gone: it exited at once
                self._watchdog = Watchdog(self.started + self.spec.limits.wall_sec + WATCHDOG_LATE_SEC,
                                          self._signal_pid1, name=f"mac-watchdog-{self.child_pid}")
                self._task = asyncio.ensure_future(self._lifecycle())
                return

    async def wait(self) -> SandboxResult:
        if self._task is None:
            raise SandboxError("the sandbox never started (no pid 1 reported)")
        return await asyncio.shield(self._task)

    def channel(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if not self.spec.interactive or self.proc.stdin is None:
            return super().channel()
        return self.proc.stdout, self.proc.stdin

    def memory_kills(self) -> int | None:
        if self.cgroup is None or "memory" not in self.cgroup.dirs:
            return None
        return self.cgroup.counters()["oom_kills"]

    async def kill(self, reason: str = "killed") -> None:
        if self.proc.returncode is None and self.killed_by is None:
            self.killed_by = reason
            self._event(_kill_kind(reason), reason=reason)
        self._signal_pid1()

    def _signal_pid1(self) -> None:
        """SIGKILL the sandbox's pid 1: the kernel kills its whole pid namespace; the outer bwrap then exits.
        Called from the loop and from the watchdog thread (the lock keeps the pidfd open while it is used)."""
        with self._pidfd_lock:
            if self._pidfd is not None:
                try:
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _kill_everything(self) -> None:
        self._signal_pid1()
        if self.cgroup is not None:
            self.cgroup.kill_all()
        if self.proc.returncode is None:  # once reaped, its pid (= its group's id) may belong to someone else
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    async def _lifecycle(self) -> SandboxResult:
        watch = None
        upper = self.spec.rootfs.upper if self.spec.rootfs is not None else None
        writable = [p for p in (self.spec.workspace if self.spec.workspace_writable else None, self.spec.outputs,
                                upper, *(b.src for b in self.spec.extra_binds if b.writable)) if p is not None]
        if writable:
            watch = asyncio.ensure_future(watch_disk(writable, self.spec.limits.disk_mb << 20, self._disk_exceeded))
        try:
            remaining = self.spec.limits.wall_sec - (time.monotonic() - self.started)
            try:
                await asyncio.wait_for(self.proc.wait(), max(remaining, 0.0))
            except TimeoutError:
                if not self._watchdog_fired():
                    await self.kill("wall")
            if self._watchdog_fired() and self.killed_by is None:
                self.killed_by = "wall"  # the loop was late: the watchdog thread killed it on time
                self._event("wall_timeout", reason="wall", by="watchdog")
            try:
                await asyncio.wait_for(self.proc.wait(), KILL_GRACE_SEC)
            except TimeoutError:
                self._kill_everything()
                await self.proc.wait()
        finally:
            if watch is not None:
                watch.cancel()
            counters = await self._cleanup()
        return self._result(counters)

    def _watchdog_fired(self) -> bool:
        """Did the watchdog thread kill the sandbox (the loop was late for its wall clock)?"""
        return self._watchdog is not None and self._watchdog.fired

    async def _disk_exceeded(self, detail: dict) -> None:
        if self.killed_by is None:
            self.killed_by = "disk"
            self._event("disk_limit", limit_mb=self.spec.limits.disk_mb, **detail)
        self._signal_pid1()

    async def _cleanup(self) -> dict[str, int]:
        counters: dict[str, int] = {}
        try:
            self._kill_everything()  # anything left, e.g. if pid 1 died but a process lingers in the cgroup
            gone = await self._pid1_gone()
            await self.stdout.finish(DRAIN_SEC)
            await self.stderr.finish(DRAIN_SEC)
            if self.cgroup is not None:
                counters = self.cgroup.counters()
                self.cgroup.remove_later(self._cgroup_left_over)
            if self.slot.own_uid and not gone:
                leaked = await asyncio.to_thread(processes_of, self.slot.uid)
                if leaked:
                    for pid in leaked:
                        _kill_quietly(pid)
                    self._event("leaked_processes", pids=leaked, uid=self.slot.uid)
        finally:
            self.slot.release()
            if self._watchdog is not None:
                self._watchdog.stop()
            with self._pidfd_lock:
                if self._pidfd is not None:
                    os.close(self._pidfd)
                    self._pidfd = None
            self.proc.close()
            if self.egress is not None:
                for attempt in self.egress[0].attempts:
                    if not attempt["allowed"]:
                        self._event("egress_denied", target=f"{attempt['host']}:{attempt['port']}",
                                    allowed=self.backend.package_index_hosts)
                await close_egress(self.egress)
        return counters

    def _cgroup_left_over(self, dirs: list[str]) -> None:
        # after the result was returned: only the evidence log can still hear about it
        if self.backend.evidence is not None:
            self.backend.evidence.add("sandbox", "cleanup_incomplete", label=self.spec.label, backend="bwrap",
                                      what="cgroup", dirs=dirs)

    async def _pid1_gone(self) -> bool:
        """Wait for the sandbox's pid 1 to exit. The kernel ends pid 1 only after every other process of its pid
        namespace, so once it is gone nothing started inside the sandbox survives (no /proc scan needed)."""
        if self._pidfd is None:
            return False
        if select.select([self._pidfd], [], [], 0)[0]:
            return True
        loop = asyncio.get_running_loop()
        exited: asyncio.Future[bool] = loop.create_future()

        def readable() -> None:
            if not exited.done():
                exited.set_result(True)

        loop.add_reader(self._pidfd, readable)
        try:
            await asyncio.wait_for(exited, KILL_GRACE_SEC)
            return True
        except TimeoutError:
            return False
        finally:
            loop.remove_reader(self._pidfd)

    def _result(self, counters: dict[str, int]) -> SandboxResult:
        returncode = _exit_code(self.proc.returncode)
        killed_by = self.killed_by
        if counters.get("oom_kills"):
            self._event("memory_limit", limit_mb=self.spec.limits.memory_mb, oom_kills=counters["oom_kills"])
            if killed_by is None and returncode == -signal.SIGKILL:
                killed_by = "memory"
        if counters.get("pids_denied"):
            self._event("pids_limit", limit=self.spec.limits.pids, denied_forks=counters["pids_denied"])
        if returncode is not None and returncode < 0:
            sig = -returncode
            if sig in SIGNAL_NAMES and killed_by is None:
                # reported by the exit status, which the sandboxed process could also fake by exiting 128+N
                self._event(SIGNAL_NAMES[sig], signal=sig, reported_by="exit status (inside the sandbox)")
            killed_by = killed_by or f"signal:{sig}"
        for name, capture in (("stdout", self.stdout), ("stderr", self.stderr)):
            if capture.dropped:
                self._event("output_truncated", stream=name, dropped_bytes=capture.dropped,
                            limit_bytes=capture.limit)
        return SandboxResult(
            returncode=returncode, stdout=self.stdout.text(), stderr=self.stderr.text(),
            stdout_truncated=bool(self.stdout.dropped), stderr_truncated=bool(self.stderr.dropped),
            timed_out=self.killed_by == "wall", killed_by=killed_by,
            wall_sec=round(time.monotonic() - self.started, 3), uid=self.slot.uid, events=self.events)

    def _event(self, kind: str, **detail: Any) -> None:
        self.events.append({"kind": kind, "label": self.spec.label, "backend": "bwrap", **detail})
        if self.backend.evidence is not None:
            self.backend.evidence.add("sandbox", kind, label=self.spec.label, backend="bwrap", **detail)


def _kill_kind(reason: str) -> str:
    return {"wall": "wall_timeout"}.get(reason, "killed")


def _exit_code(code: int | None) -> int | None:
    """bwrap reports a command killed by signal N as 128+N; give it as -N like subprocess does."""
    if code is not None and 128 < code <= 128 + 64:
        return -(code - 128)
    return code


async def close_egress(gateway: tuple) -> None:
    proxy, folder = gateway
    await proxy.close()
    shutil.rmtree(folder, ignore_errors=True)


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
