"""mini-swe-agent end to end: `mac run --meta-agent mini-swe-agent --meta-model openai:NAME --meta-base-url URL`
against a scripted fake OpenAI-compatible model server. The real tool (installed from PyPI into the cached tools
prefix) runs in the bwrap sandbox, reaches the fake only through the egress proxy, writes agent.py, calls the
evaluation service, probes a denied host and submits; the trial freezes and verifies the artifact."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from mac.metaagents import get_metaagent
from mac.metaagents.base import LOG_MOUNT, LaunchContext
from mac.metaagents.trajectory import TRAJECTORY_VERSION, read_trajectory
from mac.store import TrialResult
from mac.testing.fake_providers import session_commands
from realkit import AGENT, FAKE_KEY, MAC, files_text, scripted_session, serving

SUBMIT = "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"


@pytest.mark.slow
def test_mac_run_mini_swe_agent_end_to_end(tmp_path):
    with serving(scripted_session(submit=SUBMIT)) as fake:
        env = {**os.environ, "MAC_META_API_KEY": FAKE_KEY}
        done = subprocess.run(
            [*MAC, "run", "--domain", "arith", "--meta-agent", "mini-swe-agent", "--meta-model", "openai:fake-meta",
             "--meta-base-url", f"{fake.url}/v1", "--budget", "smoke", "--dev-time", "120",
             "--jobs-dir", str(tmp_path / "jobs"), "--job", "mini"],
            cwd=tmp_path, capture_output=True, text=True, timeout=280, env=env)
        calls = fake.calls("chat")
    assert done.returncode == 0, done.stdout + done.stderr
    trial = tmp_path / "jobs" / "mini" / "arith-mini-swe-agent-s0"
    result = TrialResult.load(trial / "result.json")
    assert result.status == "completed" and result.test is not None and result.test.total > 0
    assert result.meta_agent_exit.returncode == 0 and not result.meta_agent_exit.timed_out

    # the model saw the session: 4 commands -> 4 calls, each with the key and model we configured
    assert len(calls) == 4
    assert all(c.headers.get("authorization") == f"Bearer {FAKE_KEY}" for c in calls)
    assert {c.body["model"] for c in calls} == {"fake-meta"}
    assert "arithmetic" in json.dumps(calls[0].body["messages"])  # the domain's instruction was the task

    # the artifact it wrote was evaluated on dev and verified on test
    assert "ScriptedAgent" in (trial / "artifact" / "agent.py").read_text()
    assert result.dev_evals >= 1 and (trial / "dev_evals.jsonl").read_text().strip()

    # egress: the fake was reached through the proxy (allowed); the probe was denied and is evidence
    egress = [json.loads(line) for line in (trial / "egress.jsonl").read_text().splitlines()]
    assert any(e["allowed"] and e["host"] == "host.mac.internal" for e in egress)
    assert any(not e["allowed"] and e["host"] == "huggingface.co" for e in egress)
    evidence = [json.loads(line) for line in (trial / "evidence.jsonl").read_text().splitlines()]
    assert any(e["source"] == "egress" and e["kind"] == "egress_denied" for e in evidence)

    # one trajectory format, converted from mini's native JSON; usage counted; the key nowhere on disk
    steps = read_trajectory(trial / "trajectory")
    assert {s.version for s in steps} == {TRAJECTORY_VERSION}
    assistant = [s for s in steps if s.role == "assistant"]
    assert len(assistant) == 4 and all(s.tool_calls[0].name == "bash" for s in assistant)
    assert "cat > agent.py" in assistant[0].tool_calls[0].arguments["command"]
    assert any(s.role == "tool" and "accuracy" in s.content for s in steps)
    usage = json.loads((trial / "trajectory" / "usage.json").read_text())
    assert usage["model_calls"] == 4 and usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    meta = result.meta_agent_usage  # result.json carries the meta-agent's own model use too
    assert (meta.model_calls, meta.input_tokens, meta.output_tokens) == (4, usage["input_tokens"],
                                                                         usage["output_tokens"])
    assert (trial / "trajectory" / "native-mini.traj.json").is_file()
    assert FAKE_KEY not in files_text(trial)


@pytest.mark.slow
def test_a_key_written_into_the_workspace_is_redacted_and_flagged(tmp_path):
    """The meta-agent copies its own API key into agent.py and a note: the frozen artifact, the kept workspace and
    every other file of the trial hold a redaction mark instead, and the audit names the attempt."""
    leak = 'printf "# key %s\\n" "$MAC_META_API_KEY" >> agent.py; echo "$MAC_META_API_KEY" > notes.txt; echo leaked'
    write, evaluate, submit = session_commands(AGENT, submit=SUBMIT)
    with serving([write, leak, evaluate, submit]) as fake:
        done = subprocess.run(
            [*MAC, "run", "--domain", "arith", "--meta-agent", "mini-swe-agent", "--meta-model", "openai:fake-meta",
             "--meta-base-url", f"{fake.url}/v1", "--budget", "smoke", "--dev-time", "120",
             "--jobs-dir", str(tmp_path / "jobs"), "--job", "leak"],
            cwd=tmp_path, capture_output=True, text=True, timeout=280, env={**os.environ, "MAC_META_API_KEY": FAKE_KEY})
    assert done.returncode == 0, done.stdout + done.stderr
    trial = tmp_path / "jobs" / "leak" / "arith-mini-swe-agent-s0"
    assert "# key [REDACTED:MAC_META_API_KEY]" in (trial / "artifact" / "agent.py").read_text()
    assert (trial / "workspace" / "notes.txt").read_text().strip() == "[REDACTED:MAC_META_API_KEY]"
    assert FAKE_KEY not in files_text(trial)
    result = TrialResult.load(trial / "result.json")
    assert result.test is not None and result.test.total > 0  # the redacted artifact still runs
    evidence = [json.loads(line) for line in (trial / "evidence.jsonl").read_text().splitlines()]
    [redacted] = [e for e in evidence if e["kind"] == "secret_redacted"]
    assert redacted["files"] == ["agent.py", "notes.txt"]
    assert result.integrity_verdict != "CLEAN" and any(f.get("type") == "unauthorized_model" for f in result.findings)


def test_mini_swe_agent_invocation(tmp_path, monkeypatch):
    monkeypatch.setenv("MAC_META_API_KEY", FAKE_KEY)
    adapter = get_metaagent("mini-swe-agent", model="openai:m", base_url="http://localhost:9000/v1")
    ctx = LaunchContext(domain="arith", seed=0, instruction="Build agent.py", deadline=2e9, stage_dir=tmp_path,
                        log_dir=tmp_path)
    argv = adapter.argv(ctx)
    assert argv[:2] == ["sh", "-c"] and argv[-1] == "Build agent.py"
    assert "-m openai/m" in argv[2] and "api_base=http://host.mac.internal:9000/v1" in argv[2]
    assert "$MAC_META_API_KEY" in argv[2] and FAKE_KEY not in " ".join(argv)
    assert f"{LOG_MOUNT}/mini.traj.json" in argv[2]
    assert adapter.credentials() == {"MAC_META_API_KEY": FAKE_KEY}
    assert adapter.egress_hosts(ctx) == ["host.mac.internal:9000"]
    assert adapter.options() == {"model": "openai/m", "base_url": "http://localhost:9000/v1"}
    assert get_metaagent("mini-swe-agent", model="openai:m", egress_allow=["x.example"]).egress_hosts(ctx) == ["x.example"]
    assert adapter.binds(ctx)[0].dst == str(adapter.prefix())


def test_mini_swe_agent_install_is_cached_and_world_readable():
    adapter = get_metaagent("mini-swe-agent", model="openai:m", base_url="http://localhost:9000/v1")
    adapter.install()
    prefix = adapter.prefix()
    ready = json.loads((prefix / "READY").read_text())
    assert ready["packages"] == ["mini-swe-agent==2.4.6"]
    mini = prefix / "venv" / "bin" / "mini"
    assert mini.is_file() and mini.stat().st_mode & 0o005 == 0o005
    version = subprocess.run([str(prefix / "venv" / "bin" / "python"), "-c",
                              "from importlib.metadata import version; print(version('mini-swe-agent'))"],
                             capture_output=True, text=True, timeout=60)
    assert version.stdout.strip() == "2.4.6"


def test_missing_key_names_the_variable(monkeypatch):
    from mac.errors import ConfigError

    for var in ("MAC_META_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="MAC_META_API_KEY or OPENAI_API_KEY"):
        get_metaagent("mini-swe-agent", model="openai:m")
