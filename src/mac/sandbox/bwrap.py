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
Roles: mac.sandbox.roles refuses what a role must not have; "exec" also changes the command line (mac.sandbox.argv)
and the seccomp filter (mac.sandbox.seccomp), so its warm launchers come from a pool of their own.
Every denial the controller can see becomes an event in SandboxResult.events and in the evidence log.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from mac.errors import ConfigError, SandboxError
from mac.evidence import EvidenceLog
from mac.paths import scratch_home
from mac import egress
from mac.egress import rules as egress_rules
from mac.sandbox import cgroups, pool, prepare
from mac.sandbox.base import Relay, SandboxBackend, SandboxOptions, SandboxSpec
from mac.sandbox.rootfs_argv import sandbox_argv
from mac.sandbox.host import FIX, find_bwrap, userns_enabled
from mac.sandbox.launch import Launched, launch
from mac.sandbox.process import BwrapProcess, _kill_quietly, close_egress
from mac.sandbox.roles import check_role
from mac.sandbox.runtime import Runtime, ensure_runtime, is_ready, load_runtime, runtime_for
from mac.sandbox.seccomp import filter_fd, seccomp_filter, variant_for
from mac.sandbox.uids import Slot, acquire_slot, environment_slot, processes_of, uid_range


class BwrapOptions(SandboxOptions):
    use_cgroups: bool = True
    """False only to measure what cgroups cost."""
    use_seccomp: bool = True
    """False only to measure what the seccomp filter costs."""
    package_index_hosts: list[str] | None = None
    """What role "install" may reach (default: the configured package indexes)."""


class BwrapBackend(SandboxBackend):
    """bubblewrap isolation. Raises SandboxError at construction when this machine cannot run it.

    `evidence`: where denials go (source "sandbox"). Options (`BwrapOptions`, as a model or keywords):
    `runtime_packages`, extra packages of the default runtime (e.g. a domain's allowed packages);
    `use_cgroups` / `use_seccomp`; `package_index_hosts`. A misspelt option is a ConfigError.
    """

    name = "bwrap"
    isolated = True
    Options = BwrapOptions

    def __init__(self, evidence: EvidenceLog | None = None, options: BwrapOptions | None = None, **fields: Any):
        super().__init__(evidence, options, **fields)
        opts = cast(BwrapOptions, self.options)  # validated as BwrapOptions
        use_cgroups, use_seccomp = opts.use_cgroups, opts.use_seccomp
        self.package_index_hosts = opts.package_index_hosts or egress_rules.package_index_hosts()
        self.bwrap = find_bwrap()
        ok, why = userns_enabled()
        if not ok:
            raise SandboxError(f"unprivileged user namespaces are disabled ({why}): {FIX}")
        self.cgroup_support = (cgroups.detect() if use_cgroups
                               else cgroups.CgroupSupport(None, note="disabled by the caller"))
        if self.cgroup_support.version is not None:
            cgroups.remove_stale(self.cgroup_support)
        program, note = seccomp_filter() if use_seccomp else (None, "disabled by the caller")
        self.seccomp_on, self.seccomp_note = program is not None, note
        self._pools = {"default": pool.pool_for(self.cgroup_support, self.seccomp_on)}
        self.runtime_packages = tuple(opts.runtime_packages)
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
            "roles": {"exec": ["command is pid 1", "read-only /dev", "no relays, no writable binds",
                               "seccomp: no System V IPC, message queues or prlimit on other processes"]},
        }

    async def _runtime(self, spec: SandboxSpec) -> Runtime:
        if spec.runtime is not None:
            return load_runtime(spec.runtime)
        if self._default_runtime is None:
            self._default_runtime = await asyncio.to_thread(ensure_runtime, self.runtime_packages)
        return self._default_runtime

    def _pool_of(self, spec: SandboxSpec) -> pool.LauncherPool:
        variant = variant_for(spec.role)
        if variant not in self._pools:  # made on first use: most backends never start an exec sandbox
            self._pools[variant] = pool.pool_for(self.cgroup_support, self.seccomp_on, variant)
        return self._pools[variant]

    async def start(self, spec: SandboxSpec) -> BwrapProcess:
        check_role(spec)
        for path in (spec.workspace, spec.inputs, spec.outputs):
            if path is not None and not path.is_dir():
                raise SandboxError(f"{path} is not a folder: create it before starting the sandbox")
        runtime = await self._runtime(spec)
        slot = acquire_slot() if spec.rootfs is None else environment_slot()
        cgroup = entry = None
        gateway = None
        try:
            if spec.allow_package_index:
                spec, gateway = await self._with_egress(spec)
            if slot.dedicated:
                await asyncio.to_thread(self._hand_over, spec, slot)
            entry = self._pool_of(spec).take()
            process = await self._start_warm(entry, spec, runtime, slot) if entry is not None else None
            if process is None:
                entry = None
                if self.cgroup_support.version is not None:
                    cgroup = cgroups.Cgroup.create(self.cgroup_support, spec.limits)
                process = await self._spawn(spec, runtime, slot, cgroup)
        except BaseException:
            if slot.own_uid:  # a start cut short (e.g. cancelled) may have left a sandbox running as this uid
                _kill_slot_processes(slot.uid)
            if entry is not None:
                pool.discard(entry)
            elif cgroup is not None:
                cgroup.remove_now()
            slot.release()
            if gateway is not None:
                await close_egress(gateway)
            raise
        process.egress = gateway
        try:
            await process._await_child()
        except BaseException:
            process._kill_everything()
            await process._cleanup()
            raise
        return process

    async def _with_egress(self, spec: SandboxSpec) -> tuple[SandboxSpec, tuple[egress.EgressProxy, Path]]:
        """Start the allowlisting proxy for the package index and relay it in (role "install" only)."""
        if spec.role != "install":
            raise ConfigError(f"allow_package_index is only for role 'install', not {spec.role!r}")
        folder = Path(tempfile.mkdtemp(prefix="egress-", dir=scratch_home()))

        # Denials become this process's events (and evidence) when it finishes: see process.close_egress.
        proxy = egress.EgressProxy(self.package_index_hosts, label=spec.label)
        await proxy.start(folder / "egress.sock")
        relays = [*spec.relays, Relay(socket=folder / "egress.sock", port=egress.EGRESS_PORT)]
        env = {**egress.proxy_environment(), **spec.env}
        return spec.model_copy(update={"relays": relays, "env": env}), (proxy, folder)

    @staticmethod
    def _hand_over(spec: SandboxSpec, slot: Slot) -> None:
        """Give writable binds and relay sockets to the slot uid, then check it can reach every bind source
        (unprivileged bwrap opens them as that uid)."""
        if spec.outputs is not None:
            prepare.own_folder(spec.outputs, slot.uid, slot.gid)
        if spec.workspace is not None and spec.workspace_writable:
            prepare.chown_tree(spec.workspace, slot.uid, slot.gid)
        for relay in spec.relays:
            prepare.grant_socket(relay.socket, slot.uid)
        sources = [spec.workspace, spec.inputs, spec.outputs, *(b.src for b in spec.extra_binds),
                   *(Path(r.socket).parent for r in spec.relays)]
        for source in (Path(s) for s in sources if s is not None):
            blocked = prepare.unreachable_for(source, slot.uid)
            if blocked is not None:
                raise SandboxError(f"sandbox uids cannot reach {source}: {blocked} is not traversable by others; put "
                                   "sandbox folders under mac.paths.scratch_home() or `chmod o+x` the folders on the way")

    async def _start_warm(self, entry: pool.Entry, spec: SandboxSpec, runtime: Runtime,
                          slot: Slot) -> BwrapProcess | None:
        """Hand a warm launcher (already in its cgroup) the command line; it execs bwrap as the slot uid.
        None if the launcher is gone (the caller starts the slow way)."""
        if entry.cgroup is not None:
            try:
                entry.cgroup.apply_limits(spec.limits)
            except OSError:  # e.g. the kernel refused the limit for this used cgroup: start the slow way instead
                pool.discard(entry)
                return None
        controllers = entry.cgroup.dirs if entry.cgroup is not None else {}
        limits = prepare.rlimits(spec.limits, slot, has_memcg="memory" in controllers,
                                 has_pids_cgroup="pids" in controllers)
        argv = sandbox_argv(self.bwrap.path, spec, runtime, seccomp_fd=entry.seccomp_fd, status_fd=entry.status_fd)
        try:
            pool.order(entry, argv, limits, slot.uid if slot.dedicated else None, slot.gid if slot.dedicated else None,
                       keep_stdin=spec.interactive)
        except OSError:
            pool.discard(entry)
            return None
        launched = Launched(entry.popen, os.fdopen(entry.status_r, "rb", buffering=0))
        entry.status_r = -1  # the reader owns it now: a discard must not close that number a second time
        try:
            await launched.connect()
        except BaseException:
            launched.abandon()  # it already runs bwrap: kill it now rather than in discard's grace wait
            raise
        return BwrapProcess(self, spec, launched, slot, entry.cgroup)

    async def _spawn(self, spec: SandboxSpec, runtime: Runtime, slot: Slot,
                     cgroup: cgroups.Cgroup | None) -> BwrapProcess:
        status_r, status_w = os.pipe()
        seccomp_fd = filter_fd(variant_for(spec.role)) if self.seccomp_on else None
        join_fds = cgroup.join_fds() if cgroup is not None else []
        controllers = cgroup.dirs if cgroup is not None else {}
        limits = prepare.rlimits(spec.limits, slot, has_memcg="memory" in controllers,
                                 has_pids_cgroup="pids" in controllers)
        argv = sandbox_argv(self.bwrap.path, spec, runtime, seccomp_fd=seccomp_fd, status_fd=status_w)
        try:
            launched = await launch(argv, pass_fds=[status_w] + ([seccomp_fd] if seccomp_fd is not None else []),
                                    status_r=status_r, preexec=prepare.preexec(join_fds, limits, slot),
                                    interactive=spec.interactive)
        except (OSError, subprocess.SubprocessError) as exc:
            os.close(status_r)
            raise SandboxError(f"cannot launch bwrap ({self.bwrap.path}) as uid {slot.uid}: {exc}; {FIX}") from exc
        finally:
            for fd in [status_w, *join_fds] + ([seccomp_fd] if seccomp_fd is not None else []):
                os.close(fd)
        return BwrapProcess(self, spec, launched, slot, cgroup)


def _kill_slot_processes(uid: int) -> None:
    """SIGKILL everything of a slot uid (ours alone while we hold the slot). Needed when a start is interrupted
    before bwrap reported its pid 1: killing the outer bwrap then does not reach the sandbox, which is in another
    session and may not have armed --die-with-parent yet."""
    for _ in range(5):  # a process may fork while we sweep
        pids = processes_of(uid)
        if not pids:
            return
        for pid in pids:
            _kill_quietly(pid)
        time.sleep(0.005)
