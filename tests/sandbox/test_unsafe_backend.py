"""Backend "none": the contract's bookkeeping (paths, relays, env, limits on time and output), no isolation."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from mac.config import SandboxLimits
from mac.errors import ConfigError
from mac.sandbox.base import Relay, SandboxSpec
from mac.sandbox.registry import backend_names, get_backend
from mac.sandbox.unsafe import UnsafeBackend
from mac.testing.fake_openai import FakeOpenAI


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie waiting for its reaper is dead too
        return fh.read().split(") ")[1][0] != "Z"


def test_registry_names_backends_and_refuses_unknown_ones():
    assert set(backend_names()) >= {"bwrap", "none"}
    assert isinstance(get_backend("none"), UnsafeBackend)
    with pytest.raises(ConfigError, match="known: bwrap, none"):
        get_backend("docker")
    with pytest.raises(ConfigError, match="use_cgroup.*its options: .*use_cgroups"):  # misspelt: refused, not dropped
        get_backend("bwrap", use_cgroup=False)
    with pytest.raises(ValueError, match="role"):  # roles are a closed vocabulary (mac.kinds.SandboxRole)
        SandboxSpec(label="t", argv=["true"], role="root")


def test_describe_says_it_isolates_nothing():
    info = get_backend("none").describe()
    assert info["isolated"] is False and "ISOLATES NOTHING" in info["warning"]
    assert UnsafeBackend.isolated is False


def test_paths_env_and_compat_imports(tmp_path):
    ws, inputs, outputs = tmp_path / "ws", tmp_path / "in", tmp_path / "out"
    for d in (ws, inputs, outputs):
        d.mkdir()
    (inputs / "q.txt").write_text("question")
    script = (
        "import json, os, sys, base_agent, openai_helper\n"
        "data = open(sys.argv[1]).read()\n"
        "json.dump({'data': data, 'env': dict(os.environ), 'cwd': os.getcwd()}, open(sys.argv[2], 'w'))\n"
    )
    spec = SandboxSpec(label="t", argv=["python", "-c", script, "/mac/in/q.txt", "/mac/out/r.json"],
                       env={"WHERE": "/workspace/x", "NOT_A_PATH": "/workspaces"}, workspace=ws, inputs=inputs,
                       outputs=outputs)
    result = asyncio.run(get_backend("none").run(spec))
    assert result.returncode == 0, result.stderr
    seen = json.loads((outputs / "r.json").read_text())
    assert seen["data"] == "question" and seen["cwd"] == str(ws.resolve())
    assert set(seen["env"]) == {"WHERE", "NOT_A_PATH", "PATH", "HOME", "LANG", "PYTHONPATH"}
    assert seen["env"]["WHERE"] == f"{ws.resolve()}/x" and seen["env"]["NOT_A_PATH"] == "/workspaces"
    assert not os.path.exists(seen["env"]["HOME"])  # the private HOME is removed afterwards


def test_relay_reaches_a_unix_socket_through_the_rewritten_port(tmp_path):
    sock = tmp_path / "gw.sock"
    code = ("import os; from mac.sdk import ModelClient;"
            "print(os.environ['TASK_MODEL_API_BASE']); print(ModelClient().chat([{'role': 'user', 'content': 'hi'}]))")

    async def main():
        fake = FakeOpenAI(reply="through the relay")
        await fake.start(path=sock)
        try:
            spec = SandboxSpec(label="t", argv=["python", "-c", code],
                               env={"TASK_MODEL_API_BASE": "http://127.0.0.1:8000/v1", "TASK_MODEL_API_KEY": "k"},
                               relays=[Relay(socket=sock, port=8000)])
            return await get_backend("none").run(spec), fake.received
        finally:
            await fake.close()

    result, received = asyncio.run(main())
    base, reply = result.stdout.split()[0], result.stdout.split("\n")[1]
    assert result.returncode == 0, result.stderr
    assert base.startswith("http://127.0.0.1:") and ":8000/" not in base
    assert reply == "through the relay" and len(received) == 1


def test_wall_limit_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    spec = SandboxSpec(label="t", argv=["sh", "-c", f"sleep 300 & echo $! > {pidfile}; sleep 300"],
                       limits=SandboxLimits(wall_sec=1))
    started = time.monotonic()
    result = asyncio.run(get_backend("none").run(spec))
    assert result.timed_out and result.killed_by == "wall" and result.returncode == -9
    assert time.monotonic() - started < 10
    assert not _alive(int(pidfile.read_text()))
    assert result.events[0]["kind"] == "wall_timeout" and result.events[0]["reason"] == "wall"


def test_children_left_behind_die_with_the_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    spec = SandboxSpec(label="t", argv=["sh", "-c", f"sleep 300 > /dev/null 2>&1 & echo $! > {pidfile}; exit 3"])
    result = asyncio.run(get_backend("none").run(spec))
    assert result.returncode == 3 and not result.timed_out
    deadline = time.monotonic() + 5
    while _alive(int(pidfile.read_text())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(int(pidfile.read_text()))


def test_output_is_capped_and_drained():
    code = "import sys; sys.stdout.write('o' * 3_000_000); sys.stderr.write('e' * 10)"
    spec = SandboxSpec(label="t", argv=["python", "-c", code], limits=SandboxLimits(output_bytes=1000))
    result = asyncio.run(get_backend("none").run(spec))
    assert result.returncode == 0
    assert result.stdout == "o" * 1000 and result.stdout_truncated and result.stderr == "e" * 10
    expected = {"kind": "output_truncated", "stream": "stdout", "dropped_bytes": 2_999_000}
    assert expected.items() <= result.events[0].items()


def test_kill_ends_a_started_process():
    async def main():
        process = await get_backend("none").start(SandboxSpec(label="t", argv=["sleep", "300"]))
        await asyncio.sleep(0.1)
        await process.kill("cancelled")
        return await process.wait()

    result = asyncio.run(main())
    assert result.killed_by == "cancelled" and not result.timed_out and result.returncode == -9


def test_missing_command_is_a_sandbox_error():
    from mac.errors import SandboxError

    with pytest.raises(SandboxError, match="check the command exists"):
        asyncio.run(get_backend("none").run(SandboxSpec(label="t", argv=["/nonexistent/cmd"])))
