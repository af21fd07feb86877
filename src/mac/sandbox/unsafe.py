"""Backend "none": a plain subprocess behind the sandbox contract. It ISOLATES NOTHING.

For debugging artifacts on machines without bubblewrap, and for developing MAC itself. The command runs as
the controller's user, sees the whole host filesystem (ground truth included), has the host network, and can
read every process. Only the bookkeeping of the contract is kept:

- the in-sandbox paths `/workspace`, `/mac/in`, `/mac/out` and `extra_binds` destinations are rewritten to the
  host folders in argv, env values and cwd (nothing is mounted; nothing is read-only);
- each `Relay` is a host-side TCP -> unix-socket relay on an ephemeral loopback port, and `127.0.0.1:PORT`
  (or `localhost:PORT`) in env values is rewritten to it;
- a leading "python" runs the controller's interpreter, with PYTHONPATH = the folder holding the `mac`
  package plus `mac/sdk/compat`, so `mac.sdk`, `base_agent` and `openai_helper` import as in a sandbox;
- the environment is exactly `env` plus PATH, HOME (a private temporary folder), LANG and PYTHONPATH;
- the command gets its own session; at the wall limit, on `kill`, and after it exits, its process group is
  killed; stdout and stderr are kept up to `limits.output_bytes` each, the rest is drained and counted.

Memory, pids, CPU, file-size and tmpfs limits are NOT enforced. The verifier refuses this backend for test
splits; `describe()` says `isolated: false` so every result made with it is marked.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mac
from mac.errors import SandboxError
from mac.evidence import EvidenceLog
from mac.sandbox.base import Relay, SandboxBackend, SandboxOptions, SandboxProcess, SandboxResult, SandboxSpec
from mac.sandbox.capture import Capture
from mac.sandbox.roles import check_role

log = logging.getLogger("mac.sandbox")

WARNING = ("sandbox backend 'none' ISOLATES NOTHING: the artifact runs as this user with the host's files "
           "(answers included), network and processes. Use it only to debug your own code.")
_READ_CHUNK = 64 * 1024
_DRAIN_AFTER_EXIT_SEC = 2.0


class _Relay:
    """A TCP listener on 127.0.0.1:<ephemeral> that pipes each connection to a unix socket."""

    def __init__(self, relay: Relay):
        self.relay = relay
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            # closing the listener does not end accepted connections; their pipes end with the client
            self.server = None

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_unix_connection(str(self.relay.socket))
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_READ_CHUNK):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except OSError:
            pass


class UnsafeProcess(SandboxProcess):
    def __init__(self, backend: UnsafeBackend, spec: SandboxSpec, proc: asyncio.subprocess.Process,
                 relays: list[_Relay], home: Path):
        self.backend, self.spec, self.proc, self.relays, self.home = backend, spec, proc, relays, home
        limit = spec.limits.output_bytes
        self.stdout = Capture(None if spec.interactive else proc.stdout, limit)
        self.stderr = Capture(proc.stderr, limit)
        self.started = time.monotonic()
        self.killed_by: str | None = None
        self.events: list[dict[str, Any]] = []
        self._result: SandboxResult | None = None
        self._lock = asyncio.Lock()

    async def kill(self, reason: str = "killed") -> None:
        if self.proc.returncode is None and self.killed_by is None:
            self.killed_by = reason
            self._event("wall_timeout" if reason == "wall" else "killed", reason=reason)  # kinds as in bwrap
        self._killpg()

    def channel(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if not self.spec.interactive or self.proc.stdout is None or self.proc.stdin is None:
            return super().channel()
        return self.proc.stdout, self.proc.stdin

    async def wait(self) -> SandboxResult:
        async with self._lock:
            if self._result is None:
                self._result = await self._wait()
            return self._result

    async def _wait(self) -> SandboxResult:
        try:
            await asyncio.wait_for(self.proc.wait(), self.spec.limits.wall_sec)
        except TimeoutError:
            await self.kill("wall")
            await self.proc.wait()
        finally:
            self._killpg()  # children left behind by an exited main process die with their group
            await self.stdout.finish(_DRAIN_AFTER_EXIT_SEC)
            await self.stderr.finish(_DRAIN_AFTER_EXIT_SEC)
            for relay in self.relays:
                await relay.close()
            shutil.rmtree(self.home, ignore_errors=True)
        for name, capture in (("stdout", self.stdout), ("stderr", self.stderr)):
            if capture.dropped:
                self._event("output_truncated", stream=name, dropped_bytes=capture.dropped)
        returncode = self.proc.returncode
        return SandboxResult(
            returncode=returncode, stdout=self.stdout.text(), stderr=self.stderr.text(),
            stdout_truncated=bool(self.stdout.dropped), stderr_truncated=bool(self.stderr.dropped),
            timed_out=self.killed_by == "wall",
            killed_by=self.killed_by or (f"signal:{-returncode}" if returncode and returncode < 0 else None),
            wall_sec=round(time.monotonic() - self.started, 3), uid=os.getuid(), events=self.events)

    def _killpg(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _event(self, kind: str, **detail: Any) -> None:
        event = {"kind": kind, "label": self.spec.label, "backend": self.backend.name, **detail}
        self.events.append(event)
        if self.backend.evidence is not None:
            self.backend.evidence.add("sandbox", kind, label=self.spec.label, backend=self.backend.name, **detail)


class UnsafeBackend(SandboxBackend):
    """Runs commands as plain host subprocesses. See the module docstring: no isolation at all."""

    name = "none"
    isolated = False

    def __init__(self, evidence: EvidenceLog | None = None, options: SandboxOptions | None = None, **fields: Any):
        super().__init__(evidence, options, **fields)  # runtime_packages: unused, the host's interpreter runs
        log.warning(WARNING)

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "isolated": self.isolated, "warning": WARNING, "python": sys.executable,
                "features": {"filesystem": False, "network": False, "pid": False, "uid": False, "seccomp": False,
                             "limits": ["wall_sec", "output_bytes"]}}

    async def start(self, spec: SandboxSpec) -> UnsafeProcess:
        check_role(spec)  # the same refusals as bwrap, though nothing here would enforce them
        paths = _path_map(spec)
        relays = [_Relay(r) for r in spec.relays]
        for relay in relays:
            await relay.start()
        home = Path(tempfile.mkdtemp(prefix="mac-unsafe-home-"))
        env = _environment(spec, paths, relays, home)
        argv = [_map(a, paths) for a in spec.argv]
        if argv and argv[0] in ("python", "python3"):
            argv[0] = sys.executable
        cwd = _map(spec.cwd, paths)
        if not Path(cwd).is_dir():
            cwd = str(home)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                stdin=asyncio.subprocess.PIPE if spec.interactive else asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            for relay in relays:
                await relay.close()
            shutil.rmtree(home, ignore_errors=True)
            raise SandboxError(f"cannot start {argv[:1]}: {exc.strerror or exc}; check the command exists") from exc
        return UnsafeProcess(self, spec, proc, relays, home)


def _path_map(spec: SandboxSpec) -> list[tuple[str, str]]:
    """In-sandbox prefix -> host folder, longest prefix first."""
    pairs = [("/workspace", spec.workspace), ("/mac/in", spec.inputs), ("/mac/out", spec.outputs)]
    pairs += [(b.dst, b.src) for b in spec.extra_binds]
    mapped = [(dst.rstrip("/"), str(Path(src).resolve())) for dst, src in pairs if src is not None]
    return sorted(mapped, key=lambda p: len(p[0]), reverse=True)


def _map(value: str, paths: list[tuple[str, str]]) -> str:
    """Rewrite in-sandbox path prefixes (at path boundaries) to host folders, in one pass."""
    if not paths:
        return value
    hosts = dict(paths)
    pattern = "|".join(re.escape(dst) for dst, _ in paths)
    regex = re.compile(rf"(?<![^\s=:,'\"])({pattern})(?=$|[/\s:,'\"])")
    return regex.sub(lambda m: hosts[m.group(1)], value)


def _environment(spec: SandboxSpec, paths: list[tuple[str, str]], relays: list[_Relay], home: Path) -> dict[str, str]:
    package_parent = str(Path(mac.__file__).resolve().parent.parent)
    compat = str(Path(mac.__file__).resolve().parent / "sdk" / "compat")
    env = {}
    for key, value in spec.env.items():
        value = _map(value, paths)
        for relay in relays:
            for host in ("127.0.0.1", "localhost"):
                value = value.replace(f"{host}:{relay.relay.port}", f"127.0.0.1:{relay.port}")
        env[key] = value
    env.update({
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join([package_parent, compat]),
    })
    return env
