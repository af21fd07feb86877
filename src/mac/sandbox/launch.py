"""Launch bwrap off the event loop, and watch it without asyncio's child watchers.

Forking with a pre-exec step (join cgroups, rlimits, drop to the slot uid) blocks the caller until the child
execs, and on cgroup v1 the join alone waits for an RCU grace period (~10-15 ms). The gateway and evaluation
service share the controller's event loop, so the fork happens in a worker thread. Exit is seen through a pidfd
(the controller is the parent, so the pid cannot be reused before it reaps it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from typing import Any
from collections.abc import Callable


class Launched:
    """A started bwrap with the parts of asyncio.subprocess.Process the sandbox needs: pid, returncode, wait(),
    stdout and stderr as StreamReaders, `stdin` as a StreamWriter when the spec is interactive (else None), and
    `status` (the --json-status-fd stream)."""

    def __init__(self, popen: subprocess.Popen, status_file: Any):
        self.popen = popen
        self.pid = popen.pid
        self.stdout = asyncio.StreamReader()
        self.stderr = asyncio.StreamReader()
        self.status = asyncio.StreamReader()
        self.stdin: asyncio.StreamWriter | None = None
        self._status_file = status_file
        self._transports: list[asyncio.BaseTransport] = []
        self._pidfd = os.pidfd_open(popen.pid)
        self._exited: asyncio.Future = asyncio.get_running_loop().create_future()

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        for reader, pipe in ((self.stdout, self.popen.stdout), (self.stderr, self.popen.stderr),
                             (self.status, self._status_file)):
            transport, _ = await loop.connect_read_pipe(lambda r=reader: asyncio.StreamReaderProtocol(r), pipe)
            self._transports.append(transport)
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, self.popen.stdin)
            self._transports.append(transport)
            self.stdin = asyncio.StreamWriter(transport, protocol, None, loop)
        loop.add_reader(self._pidfd, self._on_exit)

    def _on_exit(self) -> None:
        asyncio.get_running_loop().remove_reader(self._pidfd)
        self.popen.wait()  # reaps at once: the pidfd says it exited
        os.close(self._pidfd)
        if not self._exited.done():
            self._exited.set_result(self.popen.returncode)

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    def close(self) -> None:
        """Close the pipes (after exit and draining)."""
        for transport in self._transports:
            transport.close()

    def abandon(self) -> None:
        """`connect` was interrupted (e.g. cancelled): kill the process now and free every descriptor we hold."""
        self.popen.kill()
        self.popen.wait()  # SIGKILLed: reaped at once
        self.close()
        if self.popen.stdin is not None and self.stdin is None:
            self.popen.stdin.close()
        self._status_file.close()
        os.close(self._pidfd)


async def launch(argv: list[str], *, pass_fds: list[int], status_r: int, preexec: Callable[[], None],
                 interactive: bool = False) -> Launched:
    """Start `argv` with an empty environment in a new session; the fork happens in a worker thread.
    `interactive`: stdin is a pipe (Launched.stdin), else /dev/null."""
    def start() -> subprocess.Popen:
        stdin = subprocess.PIPE if interactive else subprocess.DEVNULL
        return subprocess.Popen(argv, env={}, cwd="/", stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, pass_fds=pass_fds, start_new_session=True, umask=0o022,
                                preexec_fn=preexec)

    forking = asyncio.ensure_future(asyncio.to_thread(start))
    try:
        popen = await asyncio.shield(forking)
    except asyncio.CancelledError:
        # the worker thread may still be starting bwrap: wait for it (a fork is quick) and kill what it started,
        # so the caller's cleanup sees every process (never a sandbox left running untracked)
        with contextlib.suppress(BaseException):
            _kill_abandoned(await forking)
        os.close(status_r)
        raise
    launched = Launched(popen, os.fdopen(status_r, "rb", buffering=0))
    try:
        await launched.connect()
    except BaseException:
        launched.abandon()
        raise
    return launched


def _kill_abandoned(popen: subprocess.Popen) -> None:
    popen.kill()  # the outer bwrap; the caller sweeps the slot uid for a sandbox it already started
    popen.wait()
    for stream in (popen.stdin, popen.stdout, popen.stderr):
        if stream is not None:
            stream.close()
