"""The controller's side of one problem's sandbox: start it with the driver, send test inputs one at a time,
read back what each test printed and how it ended (frames: see driver.py). Everything read is untrusted.

Expected outputs are not in this module at all: it only ever holds inputs and what the sandbox sent.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mac.config import SandboxLimits
from mac.paths import scratch_home
from mac.sandbox.base import SandboxBackend, SandboxProcess, SandboxResult, SandboxSpec

HEADER = struct.Struct("!cI")
DRIVER_FILES = ("driver.py", "harness.py")
DRIVER_MEMORY_MB = 64
"""On top of a test's memory: the driver's own interpreter (about 20 MB) and the test's memfds."""
REPORT_SLACK = 4096
CLEANUP_GRACE_SEC = 10.0
"""How long past a test's time limit the driver may take to kill, reap and clean up before it is given up on."""
WIPE = ("/tmp", "/dev/shm")


class DriverFailed(Exception):
    """The sandbox stopped answering (`timed_out`) or broke the protocol; `result` says how it ended, if known."""

    def __init__(self, why: str, result: SandboxResult | None = None, timed_out: bool = False):
        super().__init__(why)
        self.result, self.timed_out = result, timed_out


@dataclass
class RawRun:
    """One test as the sandbox reported it (untrusted)."""

    stdout: bytes
    report: bytes
    end: dict[str, Any]
    memory_kills: int | None = None
    """Processes the kernel's OOM killer killed during the test (from the sandbox's cgroup; None: not known)."""


def problem_folder(code: str) -> Path:
    """A fresh folder holding the driver and the code, bound read-only as the sandbox's /workspace."""
    folder = Path(tempfile.mkdtemp(prefix="judge-", dir=scratch_home()))
    folder.chmod(0o755)
    for name in DRIVER_FILES:
        shutil.copyfile(Path(__file__).with_name(name), folder / name)
    (folder / "solution.py").write_bytes(code.encode("utf-8", "surrogatepass"))
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


class DriverSession:
    """One exec sandbox running the driver for one problem's code. Use `start`, then `run_test`, then `close`."""

    def __init__(self, backend: SandboxBackend, folder: Path, config: dict[str, Any], limits: SandboxLimits,
                 label: str):
        self.backend, self.folder, self.config, self.limits, self.label = backend, folder, config, limits, label
        self.process: SandboxProcess | None = None
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.compile_error: str | None = None

    async def start(self) -> None:
        spec = SandboxSpec(label=self.label, role="exec", argv=["python", "-I", "/workspace/driver.py"],
                           workspace=self.folder, cwd="/tmp", limits=self.limits, interactive=True)
        self.process = await self.backend.start(spec)
        self.reader, self.writer = self.process.channel()
        await self._send(b"C", json.dumps(self.config).encode())
        kind, payload = await self._frame(CLEANUP_GRACE_SEC + 20.0)  # interpreter start-up and compiling
        if kind != b"H":
            raise await self._failed(f"expected the driver's hello, got {kind!r}")
        hello = _json_object(payload)
        if not hello.get("ok"):
            self.compile_error = str(hello.get("error", "error"))[:60]

    async def run_test(self, data: str, timeout: float) -> RawRun:
        """Run one test; `timeout` bounds the whole exchange. Raises DriverFailed if the sandbox stops answering."""
        process = self._open()[0]
        kills_before = process.memory_kills()
        await self._send(b"T", data.encode("utf-8", "surrogatepass"))
        parts: dict[bytes, bytes] = {}
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            kind, payload = await self._frame(max(left, 0.0))
            if kind in (b"O", b"R") and kind not in parts:
                parts[kind] = payload
            elif kind == b"E" and len(parts) == 2:
                kills_after = process.memory_kills()
                kills = kills_after - kills_before if kills_before is not None and kills_after is not None else None
                return RawRun(parts[b"O"], parts[b"R"], _json_object(payload), kills)
            else:
                raise await self._failed(f"unexpected frame {kind!r}")

    async def close(self) -> SandboxResult | None:
        """Tell the driver to quit and wait for the sandbox (killing it if it lingers)."""
        if self.process is None:
            return None
        try:
            if self.writer is not None:
                self.writer.write(HEADER.pack(b"Q", 0))
                self.writer.close()
        except (ConnectionError, RuntimeError):
            pass
        try:
            return await asyncio.wait_for(self.process.wait(), 5.0)
        except TimeoutError:
            await self.process.kill("judge: the driver did not quit")
            return await self.process.wait()

    async def kill(self, reason: str) -> SandboxResult | None:
        if self.process is None:
            return None
        await self.process.kill(reason)
        return await self.process.wait()

    def _open(self) -> tuple[SandboxProcess, asyncio.StreamReader, asyncio.StreamWriter]:
        if self.process is None or self.reader is None or self.writer is None:
            raise DriverFailed("the driver was never started")
        return self.process, self.reader, self.writer

    async def _send(self, kind: bytes, payload: bytes) -> None:
        writer = self._open()[2]
        try:
            writer.write(HEADER.pack(kind, len(payload)) + payload)
            await writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            raise await self._failed(f"cannot write to the driver: {exc}") from None

    async def _frame(self, timeout: float) -> tuple[bytes, bytes]:
        limit = self.config["send_bytes"] + REPORT_SLACK
        reader = self._open()[1]
        try:
            head = await asyncio.wait_for(reader.readexactly(HEADER.size), timeout)
            kind, size = HEADER.unpack(head)
            if size > limit:
                raise await self._failed(f"a {size}-byte frame is over the {limit}-byte limit")
            payload = await asyncio.wait_for(reader.readexactly(size), timeout)
        except TimeoutError:
            raise await self._failed("the driver did not answer in time", kill=True) from None
        except asyncio.IncompleteReadError:
            raise await self._failed("the sandbox ended") from None
        return kind, payload

    async def _failed(self, why: str, kill: bool = False) -> DriverFailed:
        result = await (self.kill(f"judge: {why}") if kill else self.close())
        return DriverFailed(why, result, timed_out=kill)


def _json_object(payload: bytes) -> dict[str, Any]:
    try:
        value = json.loads(payload)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
