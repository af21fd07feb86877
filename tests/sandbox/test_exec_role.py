"""Role "exec" (candidate code): what it refuses, and what the bwrap backend does for it (the command is pid 1 and
survives signals from inside, /dev is read-only, no network, no IPC objects that outlive a process), plus the
interactive stdin/stdout channel the judge drives it through."""

from __future__ import annotations

import asyncio
import json
import textwrap

import pytest

from mac.errors import ConfigError, SandboxError
from mac.sandbox.base import Bind, Relay, SandboxSpec

PROBE = r"""
import ctypes, errno, json, os, signal, socket
libc = ctypes.CDLL(None, use_errno=True)
out = {"pid": os.getpid()}
if os.getpid() == 1:                                       # a child of pid 1 probes it, as a candidate would
    child = os.fork()
    if child:
        os._exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
    out["pid"] = 1
for path in ("/dev/x", "/dev/shm/x", "/tmp/x"):
    try:
        open(path, "w").close(); out[path] = "written"
    except OSError as exc:
        out[path] = exc.errno
for name, call in (("shmget", lambda: libc.shmget(0, 4096, 0o1600)), ("msgget", lambda: libc.msgget(0, 0o1600)),
                   ("semget", lambda: libc.semget(0, 1, 0o1600)), ("mq_open", lambda: libc.mq_open(b"/q", 0o100, 0o600, None))):
    result = call()
    out[name] = ctypes.get_errno() if result == -1 else "created"
import resource
try:
    resource.prlimit(1, resource.RLIMIT_NOFILE, (3, 3)); out["prlimit_pid1"] = "lowered"
except OSError as exc:
    out["prlimit_pid1"] = exc.errno
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))        # its own limits stay its own business
out["own_limit"] = resource.getrlimit(resource.RLIMIT_CORE)[0]
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    udp.connect(("192.0.2.1", 9)); out["route"] = udp.getsockname()[0]   # asks for a route, sends nothing
except OSError as exc:
    out["route"] = exc.errno
out["ifaces"] = sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:])
print(json.dumps(out), flush=True)
"""


def run(backend, spec: SandboxSpec):
    return asyncio.run(backend.run(spec))


@pytest.mark.parametrize("fields, refused", [
    ({"relays": [Relay(socket="/tmp/x.sock", port=8000)]}, "relays"),
    ({"allow_package_index": True}, "allow_package_index"),
    ({"workspace_writable": True}, "a writable workspace"),
    ({"outputs": "/tmp"}, "an outputs folder"),
    ({"extra_binds": [Bind(src="/tmp", dst="/data", writable=True)]}, "writable extra binds"),
])
def test_exec_refuses_what_candidate_code_must_not_have(bwrap_backend, box, fields, refused):
    spec = SandboxSpec(label="exec", role="exec", argv=["python", "-c", "pass"], workspace=box, **fields)
    with pytest.raises(ConfigError, match=refused):
        run(bwrap_backend, spec)


def test_exec_runs_as_pid_1_with_a_read_only_dev_no_network_and_no_ipc_objects(bwrap_backend, box):
    result = run(bwrap_backend, SandboxSpec(label="exec", role="exec", argv=["python", "-c", PROBE], workspace=box))
    out = json.loads(result.stdout)
    assert out["pid"] == 1
    assert out["/dev/x"] == 30 and out["/dev/shm/x"] == "written" and out["/tmp/x"] == "written"  # EROFS
    assert all(out[name] == 1 for name in ("shmget", "msgget", "semget", "mq_open")), out  # EPERM
    assert out["route"] == 101 and out["ifaces"] == ["lo"]  # ENETUNREACH
    assert out["prlimit_pid1"] == 1 and out["own_limit"] == 0  # EPERM: the driver's limits are out of reach
    other = run(bwrap_backend, SandboxSpec(label="artifact", argv=["python", "-c", PROBE], workspace=box))
    assert json.loads(other.stdout)["pid"] != 1  # the narrower rules are for "exec" only


def test_pid_1_of_an_exec_sandbox_survives_signals_from_inside(bwrap_backend, box):
    script = textwrap.dedent("""
        import os, signal, sys, time
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # pid 1 gets only the signals it has a handler for
        if os.fork() == 0:
            for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGINT):
                os.kill(1, sig)
            os.kill(-1, signal.SIGKILL)   # everything it may signal: pid 1 is spared
            os._exit(0)
        os.wait()
        time.sleep(0.2)
        print("pid 1 alive")
        """)
    result = run(bwrap_backend, SandboxSpec(label="exec", role="exec", argv=["python", "-c", script], workspace=box))
    assert result.returncode == 0 and result.stdout == "pid 1 alive\n"


def test_the_interactive_channel_carries_stdin_and_stdout(bwrap_backend, box):
    echo = "import sys\nfor line in sys.stdin:\n    print(line.strip().upper(), flush=True)\n"

    async def talk() -> tuple[list[bytes], str]:
        process = await bwrap_backend.start(SandboxSpec(label="exec", role="exec", argv=["python", "-c", echo],
                                                        workspace=box, interactive=True))
        reader, writer = process.channel()
        lines = []
        for word in (b"one\n", b"two\n"):
            writer.write(word)
            await writer.drain()
            lines.append(await asyncio.wait_for(reader.readline(), 30))
        writer.close()
        result = await process.wait()
        return lines, result.stdout

    lines, captured = asyncio.run(talk())
    assert lines == [b"ONE\n", b"TWO\n"] and captured == ""


def test_a_sandbox_that_is_not_interactive_has_no_channel(bwrap_backend, box):
    async def start_and_ask() -> None:
        process = await bwrap_backend.start(SandboxSpec(label="x", argv=["python", "-c", "pass"], workspace=box))
        try:
            process.channel()
        finally:
            await process.wait()

    with pytest.raises(SandboxError, match="interactive=True"):
        asyncio.run(start_and_ask())
