"""The sandbox contract on the real bwrap backend: exit codes, environment, output capture and caps, limits,
read-only and writable views, relays, kill, and what describe() reports."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from mac.config import SandboxLimits
from mac.errors import ConfigError, SandboxError
from mac.sandbox.base import Bind, Relay, SandboxSpec
from mac.sandbox.uids import processes_of, uid_range
from mac.testing.fake_openai import FakeOpenAI


def run(backend, **fields):
    return asyncio.run(backend.run(SandboxSpec(label=fields.pop("label", "conformance"), **fields)))


def py(code: str) -> list[str]:
    return ["python", "-c", code]


def test_exit_codes_and_signals(bwrap_backend):
    assert run(bwrap_backend, argv=py("import sys; sys.exit(3)")).returncode == 3
    assert run(bwrap_backend, argv=["true"]).returncode == 0
    killed = run(bwrap_backend, argv=py("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"))
    assert killed.returncode == -9 and killed.killed_by == "signal:9" and not killed.timed_out


def test_environment_is_exactly_what_was_given(bwrap_backend, monkeypatch):
    monkeypatch.setenv("MAC_TEST_CONTROLLER_SECRET", "sk-controller-only")
    result = run(bwrap_backend, argv=py("import os, json; print(json.dumps(dict(os.environ)))"),
                 env={"TASK_MODEL_NAME": "m", "EMPTY": ""})
    env = json.loads(result.stdout)
    assert set(env) == {"TASK_MODEL_NAME", "EMPTY", "PATH", "HOME", "LANG", "PWD"}
    assert env["TASK_MODEL_NAME"] == "m" and env["EMPTY"] == "" and env["HOME"] == "/tmp"
    launch_env = run(bwrap_backend, argv=py("print(repr(open('/proc/1/environ').read()))"))
    assert launch_env.stdout.strip() == "''"  # pid 1 (bwrap) was launched with an empty environment


def test_stdout_and_stderr_are_captured_and_capped(bwrap_backend):
    small = run(bwrap_backend, argv=py("import sys; print('out'); print('err', file=sys.stderr)"))
    assert (small.stdout, small.stderr) == ("out\n", "err\n")
    assert not small.stdout_truncated and small.events == []
    flood = run(bwrap_backend, argv=py("import sys; sys.stdout.write('x' * 3_000_000); sys.stderr.write('y' * 10)"),
                limits=SandboxLimits(output_bytes=1000))
    assert flood.returncode == 0 and len(flood.stdout) == 1000 and flood.stdout_truncated
    assert flood.stderr == "y" * 10 and not flood.stderr_truncated
    [event] = flood.events
    assert event["kind"] == "output_truncated" and event["dropped_bytes"] == 3_000_000 - 1000


def test_wall_clock_kills_the_whole_tree(bwrap_backend, box):
    code = ("import subprocess, time\n"
            "subprocess.Popen(['sh', '-c', 'sleep 3; echo late > /mac/out/late'], start_new_session=True)\n"
            "time.sleep(60)\n")
    started = time.monotonic()
    result = run(bwrap_backend, argv=py(code), outputs=box, limits=SandboxLimits(wall_sec=1.0))
    assert result.timed_out and result.killed_by == "wall" and result.returncode == -9
    assert time.monotonic() - started < 5
    assert [e["kind"] for e in result.events] == ["wall_timeout"]
    assert processes_of(result.uid) == []
    time.sleep(3.5)
    assert not (box / "late").exists()


def test_views_inputs_read_only_outputs_and_dev_workspace_writable(bwrap_backend, box):
    ws, inputs, outputs = box / "ws", box / "in", box / "out"
    for folder in (ws, inputs, outputs):
        folder.mkdir()
    (inputs / "q.txt").write_text("question")
    (ws / "agent.py").write_text("A = 1\n")
    code = ("import json, os\n"
            "def attempt(path):\n"
            "    try:\n"
            "        open(path, 'w').write('x'); return 'ok'\n"
            "    except OSError as exc:\n"
            "        return exc.errno\n"
            "print(json.dumps({'q': open('/mac/in/q.txt').read(), 'cwd': os.getcwd(),\n"
            "  'in': attempt('/mac/in/new'), 'ws': attempt('/workspace/new'), 'out': attempt('/mac/out/new'),\n"
            "  'root': attempt('/new'), 'usr': attempt('/usr/new'), 'tmp': attempt('/tmp/new')}))\n")
    artifact = json.loads(run(bwrap_backend, argv=py(code), workspace=ws, inputs=inputs, outputs=outputs).stdout)
    assert artifact == {"q": "question", "cwd": "/workspace", "in": 30, "ws": 30, "out": "ok", "root": 30,
                        "usr": 30, "tmp": "ok"}  # 30 = EROFS
    dev = json.loads(run(bwrap_backend, argv=py(code), role="dev", workspace=ws, workspace_writable=True,
                         inputs=inputs, outputs=outputs).stdout)
    assert dev["ws"] == "ok" and dev["in"] == 30
    assert (ws / "new").read_text() == "x" and (outputs / "new").read_text() == "x"


def test_extra_binds_and_reserved_destinations(bwrap_backend, box):
    (box / "data.txt").write_text("extra")
    result = run(bwrap_backend, argv=["cat", "/opt/data/data.txt"], extra_binds=[Bind(src=box, dst="/opt/data")])
    assert result.stdout == "extra"
    with pytest.raises(ConfigError, match="reserved"):
        run(bwrap_backend, argv=["true"], extra_binds=[Bind(src=box, dst="/proc/x")])


def test_runtime_python_sdk_and_compat_modules(bwrap_backend):
    code = ("import sys, mac, mac.sdk, base_agent, openai_helper, openai\n"
            "print(sys.prefix); print(mac.sdk.BaseAgent.__name__, base_agent.BaseAIMEAgent.__name__)\n"
            "print(sorted(n for n in dir(mac) if not n.startswith('_')))\n")
    result = run(bwrap_backend, argv=py(code))
    assert result.returncode == 0, result.stderr
    prefix, names, mac_names = result.stdout.splitlines()
    assert prefix == bwrap_backend.describe()["runtime"]["path"] + "/venv"
    assert names == "BaseAgent BaseAIMEAgent" and mac_names == "['sdk']"  # only the SDK, none of the controller


def test_uid_is_a_dedicated_slot(bwrap_backend):
    result = run(bwrap_backend, argv=py("import os; print(os.getuid())"))
    first, last = uid_range()
    assert result.stdout.strip() == "1000"  # what the sandbox sees
    if os.geteuid() == 0:
        assert first <= result.uid <= last
        assert bwrap_backend.describe()["uids"]["mode"] == "dedicated"


def test_relay_with_an_unmodified_openai_client(bwrap_backend, box):
    code = ("from openai import OpenAI\n"
            "client = OpenAI(base_url='http://127.0.0.1:8000/v1', api_key='tok', max_retries=0)\n"
            "for _ in range(3):\n"
            "    reply = client.chat.completions.create(model='m', messages=[{'role': 'user', 'content': 'hi'}])\n"
            "print(reply.choices[0].message.content)\n")

    async def main():
        fake = FakeOpenAI(reply="pong")
        await fake.start(path=box / "llm.sock")
        try:
            result = await bwrap_backend.run(SandboxSpec(label="relay", argv=py(code),
                                                         relays=[Relay(socket=box / "llm.sock", port=8000)]))
        finally:
            await fake.close()
        return fake, result

    fake, result = asyncio.run(main())
    assert result.returncode == 0, result.stderr
    assert result.stdout == "pong\n" and len(fake.received) == 3
    assert fake.received[0].headers["authorization"] == "Bearer tok"


def test_kill_from_outside(bwrap_backend):
    async def main():
        process = await bwrap_backend.start(SandboxSpec(label="kill", argv=["sleep", "60"]))
        await asyncio.sleep(0.2)
        await process.kill("cancelled")
        return await process.wait()

    result = asyncio.run(main())
    assert result.killed_by == "cancelled" and not result.timed_out and result.returncode == -9
    assert result.events[0]["kind"] == "killed"


def test_missing_folder_is_a_sandbox_error(bwrap_backend, box):
    with pytest.raises(SandboxError, match="not a folder"):
        run(bwrap_backend, argv=["true"], workspace=box / "missing")


def test_private_folder_is_refused_with_the_fix(bwrap_backend, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root drops to a slot uid that cannot reach the caller's private folders")
    with pytest.raises(SandboxError, match="scratch_home"):
        run(bwrap_backend, argv=["true"], workspace=tmp_path)


def test_describe_reports_the_isolation(bwrap_backend):
    info = bwrap_backend.describe()
    assert info["backend"] == "bwrap" and info["isolated"] is True
    assert Path(info["bwrap"]["path"]).is_file() and info["bwrap"]["version"]
    assert {"user", "pid", "net", "mount"} <= set(info["namespaces"]) and info["nested_userns"] is False
    assert "on" in info["seccomp"] and "version" in info["cgroup"] and info["runtime"]["ready"] is True


def test_relay_carries_concurrent_streaming_requests(bwrap_backend, box):
    code = ("from concurrent.futures import ThreadPoolExecutor\n"
            "from openai import OpenAI\n"
            "client = OpenAI(base_url='http://127.0.0.1:8000/v1', api_key='tok', max_retries=0)\n"
            "def ask(i):\n"
            "    stream = client.chat.completions.create(model='m', stream=True,\n"
            "                                            messages=[{'role': 'user', 'content': str(i)}])\n"
            "    return ''.join(c.choices[0].delta.content or '' for c in stream if c.choices)\n"
            "with ThreadPoolExecutor(16) as pool:\n"
            "    replies = list(pool.map(ask, range(64)))\n"
            "print(len(replies), len(set(replies)), replies[0])\n")

    async def main():
        fake = FakeOpenAI(reply=lambda body: "answer " + body["messages"][0]["content"] + " " + "x" * 2000,
                          chunk_chars=64, chunk_delay_sec=0.002)
        await fake.start(path=box / "llm.sock")
        try:
            result = await bwrap_backend.run(SandboxSpec(label="relay", argv=py(code),
                                                         relays=[Relay(socket=box / "llm.sock", port=8000)]))
        finally:
            await fake.close()
        return fake, result

    fake, result = asyncio.run(main())
    assert result.returncode == 0, result.stderr
    count, distinct, first = result.stdout.split(" ", 2)
    assert (count, distinct) == ("64", "64") and first.startswith("answer 0 xxx")
    assert fake.max_in_flight > 1 and len(fake.received) == 64
