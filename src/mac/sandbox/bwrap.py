"""The bubblewrap backend, the default wherever untrusted code runs.

Each sandbox gets its own unprivileged host uid (a slot; the current user when the controller is not root), new
user/pid/net/ipc/uts/mount/cgroup namespaces with nested user namespaces disabled, a tmpfs root holding only
read-only binds (/usr, certificates, the runtime) plus the spec's views, size-limited /tmp and /dev/shm, a
read-only root, an empty launch environment (pid 1 inside is bwrap, whose /proc/1/environ is what it was launched
with), the seccomp deny-list (mac.sandbox.seccomp), --die-with-parent and a new session. Limits: cgroups where
writable (memory, pids, CPU; v2 or v1), rlimits always (FSIZE, NOFILE, CORE=0, NPROC with a dedicated uid, AS
without a memory cgroup), wall clock (the pid namespace dies at once), bounded output, watched disk growth.

Relays: the folder of each host socket is bound at /run/mac/<i>/ and an in-sandbox init (mac.sandbox.init)
listens on 127.0.0.1:PORT in the sandbox's own network namespace. There is no other network.
Every denial the controller can see becomes an event in SandboxResult.events and in the evidence log.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import time
from pathlib import Path
from typing import Any

from mac.errors import SandboxError
from mac.evidence import EvidenceLog
from mac.sandbox import cgroups, prepare
from mac.sandbox.argv import bwrap_argv
from mac.sandbox.base import SandboxBackend, SandboxProcess, SandboxResult, SandboxSpec
from mac.sandbox.capture import Capture
from mac.sandbox.diskwatch import watch_disk
from mac.sandbox.host import FIX, find_bwrap, userns_enabled
from mac.sandbox.runtime import Runtime, ensure_runtime, is_ready, load_runtime, runtime_for
from mac.sandbox.seccomp import filter_fd, seccomp_filter
from mac.sandbox.uids import Slot, acquire_slot, processes_of, uid_range

START_TIMEOUT_SEC = 30.0
KILL_GRACE_SEC = 2.0
DRAIN_SEC = 2.0
SIGNAL_NAMES = {signal.SIGSYS: "seccomp_kill", signal.SIGXFSZ: "file_size_limit", signal.SIGXCPU: "cpu_limit"}


class BwrapProcess(SandboxProcess):
    """A started bwrap sandbox. `pid` is the outer bwrap, `child_pid` the sandbox's pid 1 (host view)."""

    def __init__(self, backend: "BwrapBackend", spec: SandboxSpec, proc: asyncio.subprocess.Process, slot: Slot,
                 cgroup: cgroups.Cgroup | None, status: asyncio.StreamReader, status_transport: Any):
        self.backend, self.spec, self.proc, self.slot, self.cgroup = backend, spec, proc, slot, cgroup
        self.status, self._status_transport = status, status_transport
        self.pid, self.uid, self.child_pid = proc.pid, slot.uid, None
        self._pidfd: int | None = None
        limit = spec.limits.output_bytes
        self.stdout, self.stderr = Capture(proc.stdout, limit), Capture(proc.stderr, limit)
        self.started = time.monotonic()
        self.killed_by: str | None = None
        self.events: list[dict[str, Any]] = []
        self._task: asyncio.Future | None = None

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
                self.child_pid = int(info["child-pid"])
                try:
                    self._pidfd = os.pidfd_open(self.child_pid)
                except OSError:
                    self._pidfd = None  # already gone: it exited at once
                self._task = asyncio.ensure_future(self._lifecycle())
                return

    async def wait(self) -> SandboxResult:
        return await asyncio.shield(self._task)

    async def kill(self, reason: str = "killed") -> None:
        if self.proc.returncode is None and self.killed_by is None:
            self.killed_by = reason
            self._event(_kill_kind(reason), reason=reason)
        self._signal_pid1()

    def _signal_pid1(self) -> None:
        """SIGKILL the sandbox's pid 1: the kernel kills its whole pid namespace; the outer bwrap then exits."""
        if self._pidfd is not None:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _kill_everything(self) -> None:
        if self.cgroup is not None:
            self.cgroup.kill_all()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    async def _lifecycle(self) -> SandboxResult:
        watch = None
        writable = [p for p in (self.spec.workspace if self.spec.workspace_writable else None, self.spec.outputs)
                    if p is not None]
        if writable:
            watch = asyncio.ensure_future(watch_disk(writable, self.spec.limits.disk_mb << 20, self._disk_exceeded))
        try:
            remaining = self.spec.limits.wall_sec - (time.monotonic() - self.started)
            try:
                await asyncio.wait_for(self.proc.wait(), max(remaining, 0.0))
            except asyncio.TimeoutError:
                await self.kill("wall")
            try:
                await asyncio.wait_for(self.proc.wait(), KILL_GRACE_SEC)
            except asyncio.TimeoutError:
                self._kill_everything()
                await self.proc.wait()
        finally:
            if watch is not None:
                watch.cancel()
            counters = await self._cleanup()
        return self._result(counters)

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
                if not await self.cgroup.remove():
                    self._event("cleanup_incomplete", what="cgroup", dirs=[str(d) for d in self.cgroup.dirs.values()])
            if self.slot.dedicated and not gone:
                leaked = await asyncio.to_thread(processes_of, self.slot.uid)
                if leaked:
                    for pid in leaked:
                        _kill_quietly(pid)
                    self._event("leaked_processes", pids=leaked, uid=self.slot.uid)
        finally:
            self.slot.release()
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
            self._status_transport.close()
        return counters

    async def _pid1_gone(self) -> bool:
        """Wait for the sandbox's pid 1 to exit. The kernel ends pid 1 only after every other process of its pid
        namespace, so once it is gone nothing started inside the sandbox survives (no /proc scan needed)."""
        if self._pidfd is None:
            return False
        if select.select([self._pidfd], [], [], 0)[0]:
            return True
        loop = asyncio.get_running_loop()
        exited = loop.create_future()
        loop.add_reader(self._pidfd, lambda: exited.done() or exited.set_result(True))
        try:
            await asyncio.wait_for(exited, KILL_GRACE_SEC)
            return True
        except asyncio.TimeoutError:
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


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class BwrapBackend(SandboxBackend):
    """bubblewrap isolation. Raises SandboxError at construction when this machine cannot run it.

    `evidence`: where denials go (source "sandbox"). `runtime_packages`: extra packages of the default runtime
    (e.g. a domain's allowed packages). `use_cgroups` / `use_seccomp`: False only to measure what they cost.
    """

    name = "bwrap"
    isolated = True

    def __init__(self, evidence: EvidenceLog | None = None, *, runtime_packages: tuple[str, ...] | list[str] = (),
                 use_cgroups: bool = True, use_seccomp: bool = True, **_ignored: Any):
        self.evidence = evidence
        self.bwrap = find_bwrap()
        ok, why = userns_enabled()
        if not ok:
            raise SandboxError(f"unprivileged user namespaces are disabled ({why}): {FIX}")
        self.cgroup_support = (cgroups.detect() if use_cgroups
                               else cgroups.CgroupSupport(None, note="disabled by the caller"))
        program, note = seccomp_filter() if use_seccomp else (None, "disabled by the caller")
        self.seccomp_on, self.seccomp_note = program is not None, note
        self.runtime_packages = tuple(runtime_packages)
        self._default_runtime: Runtime | None = None

    def describe(self) -> dict[str, Any]:
        support = self.cgroup_support
        root = os.geteuid() == 0
        try:
            runtime = self._default_runtime or runtime_for(self.runtime_packages)
            runtime_info = {**runtime.describe(), "ready": is_ready(runtime)}
        except SandboxError as exc:
            runtime_info = {"error": str(exc)}
        return {
            "backend": "bwrap", "isolated": True,
            "bwrap": {"path": str(self.bwrap.path), "version": self.bwrap.version, "source": self.bwrap.source},
            "namespaces": ["user", "pid", "net", "ipc", "uts", "mount", "cgroup"], "nested_userns": False,
            "cgroup": {"version": support.version, "controllers": list(support.controllers), "note": support.note},
            "seccomp": {"on": self.seccomp_on, "note": self.seccomp_note},
            "uids": {"mode": "dedicated", "range": list(uid_range())} if root else
                    {"mode": "shared", "uid": os.getuid(),
                     "note": "not root: sandboxes run as the current user (no per-sandbox uid, no RLIMIT_NPROC)"},
            "rlimits": ["FSIZE", "NOFILE", "CORE"] + (["NPROC"] if root else []) +
                       ([] if "memory" in support.controllers else ["AS"]),
            "runtime": runtime_info,
        }

    async def _runtime(self, spec: SandboxSpec) -> Runtime:
        if spec.runtime is not None:
            return load_runtime(spec.runtime)
        if self._default_runtime is None:
            self._default_runtime = await asyncio.to_thread(ensure_runtime, self.runtime_packages)
        return self._default_runtime

    async def start(self, spec: SandboxSpec) -> BwrapProcess:
        for path in (spec.workspace, spec.inputs, spec.outputs):
            if path is not None and not path.is_dir():
                raise SandboxError(f"{path} is not a folder: create it before starting the sandbox")
        runtime = await self._runtime(spec)
        slot = acquire_slot()
        cgroup = None
        try:
            if slot.dedicated:
                await asyncio.to_thread(self._hand_over, spec, slot)
            if self.cgroup_support.version is not None:
                cgroup = cgroups.Cgroup.create(self.cgroup_support, spec.limits)
            process = await self._spawn(spec, runtime, slot, cgroup)
        except BaseException:
            if cgroup is not None:
                cgroup.remove_now()
            slot.release()
            raise
        try:
            await process._await_child()
        except BaseException:
            process._kill_everything()
            await process._cleanup()
            raise
        return process

    @staticmethod
    def _hand_over(spec: SandboxSpec, slot: Slot) -> None:
        sources = [spec.workspace, spec.inputs, spec.outputs, *(b.src for b in spec.extra_binds),
                   *(Path(r.socket).parent for r in spec.relays)]
        for source in (Path(s) for s in sources if s is not None):
            blocked = prepare.unreachable_for(source.parent, slot.uid)
            if blocked is not None:
                raise SandboxError(f"sandbox uids cannot reach {source}: {blocked} is not traversable by others; put "
                                   "sandbox folders under mac.paths.scratch_home() or `chmod o+x` the folders on the way")
        if spec.outputs is not None:
            prepare.own_folder(spec.outputs, slot.uid, slot.gid)
        if spec.workspace is not None and spec.workspace_writable:
            prepare.chown_tree(spec.workspace, slot.uid, slot.gid)
        for relay in spec.relays:
            prepare.grant_socket(relay.socket, slot.uid)

    async def _spawn(self, spec: SandboxSpec, runtime: Runtime, slot: Slot,
                     cgroup: cgroups.Cgroup | None) -> BwrapProcess:
        status_r, status_w = os.pipe()
        seccomp_fd = filter_fd() if self.seccomp_on else None
        join_fds = cgroup.join_fds() if cgroup is not None else []
        controllers = cgroup.dirs if cgroup is not None else {}
        limits = prepare.rlimits(spec.limits, slot, has_memcg="memory" in controllers,
                                 has_pids_cgroup="pids" in controllers)
        argv = bwrap_argv(self.bwrap.path, spec, runtime, seccomp_fd=seccomp_fd, status_fd=status_w)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, env={}, cwd="/", stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, pass_fds=[status_w] + ([seccomp_fd] if seccomp_fd is not None else []),
                start_new_session=True, umask=0o022, preexec_fn=prepare.preexec(join_fds, limits, slot))
        except (OSError, Exception) as exc:
            os.close(status_r)
            raise SandboxError(f"cannot launch bwrap ({self.bwrap.path}) as uid {slot.uid}: {exc}; {FIX}") from exc
        finally:
            for fd in [status_w, *join_fds] + ([seccomp_fd] if seccomp_fd is not None else []):
                os.close(fd)
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                    os.fdopen(status_r, "rb", buffering=0))
        return BwrapProcess(self, spec, proc, slot, cgroup, reader, transport)
