"""Failures are never scores (issue 12): `mac run` and `mac eval` as a user runs them, against a dead endpoint,
a failing upstream (an honest fake), a crashing meta-agent and a raising artifact. Real subprocesses, real
sandboxes, real gateway."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from mac.store import TrialResult
from mac.testing.fake_openai import FakeOpenAI
from mac.testing.threaded import in_thread

MAC = [sys.executable, "-c", "from mac.cli import app; app(prog_name='mac')"]

CATCHING_AGENT = '''
from mac.sdk import BaseAgent, ModelClient, Prediction

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        client = ModelClient(max_retries=0)
        out = []
        for p in problems:
            try:
                answer = client.chat([{"role": "user", "content": p.question}])
            except Exception:
                answer = "0"  # a failed call becomes a wrong answer: the score alone would look real
            out.append(Prediction(p.idx, answer))
        return out
'''

RAISING_AGENT = '''
from mac.sdk import BaseAgent


def parse(text):
    raise RuntimeError("boom: cannot parse " + text[:10])


class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        return [parse(p.question) for p in problems]
'''


def mac(*args: str, cwd: Path, timeout: float = 240, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*MAC, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1"


def write_agent(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "agent.py").write_text(source)
    return folder


def writes_agent(source: str) -> str:
    """A `--meta-agent command` line that writes `source` as agent.py (no shell quoting to get wrong)."""
    encoded = base64.b64encode(source.encode()).decode()
    return f"python -c \"import base64; open('agent.py', 'wb').write(base64.b64decode('{encoded}'))\""


def test_an_unreachable_task_model_fails_before_anything_is_spent(tmp_path):
    url = dead_url()
    started = time.monotonic()
    run = mac("run", "--domain", "arith", "--task-model", "openai:foo", "--base-url", url, "--budget", "smoke",
              "--jobs-dir", str(tmp_path / "jobs"), cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "cannot be reached" in run.stderr and url in run.stderr.replace("\n", "")
    assert not (tmp_path / "jobs").exists()  # no job folder, no trial, no budget spent

    artifact = write_agent(tmp_path / "a", CATCHING_AGENT)
    evaluated = mac("eval", "--domain", "arith", "--split", "dev", "--artifact", str(artifact), "--task-model",
                    "openai:foo", "--base-url", url, cwd=tmp_path)
    assert evaluated.returncode == 2 and "cannot be reached" in evaluated.stderr, evaluated.stderr
    baselines = mac("baseline", "--domain", "arith", "--task-model", "openai:foo", "--base-url", url, "--jobs-dir",
                    str(tmp_path / "jobs"), cwd=tmp_path)
    assert baselines.returncode == 2 and "cannot be reached" in baselines.stderr, baselines.stderr
    assert time.monotonic() - started < 60  # seconds, not a trial's worth of 502s
    assert not (tmp_path / "jobs").exists()


def test_a_wrong_model_name_fails_before_anything_is_spent(tmp_path):
    with in_thread(FakeOpenAI(models=["served-model"])) as fake:
        run = mac("run", "--domain", "arith", "--task-model", "openai:not-served", "--base-url", fake.url,
                  "--budget", "smoke", "--jobs-dir", str(tmp_path / "jobs"), cwd=tmp_path)
        chats = [r for r in fake.received if r.body.get("max_tokens") != 1]
    assert run.returncode == 2 and "does not serve model 'not-served'" in run.stderr.replace("\n", " ")
    assert "served-model" in run.stderr and chats == [] and not (tmp_path / "jobs").exists()


def test_a_failing_upstream_makes_an_infrastructure_error_not_a_score(tmp_path):
    with in_thread(FakeOpenAI(models=["m"], fail_status=500)) as fake:
        run = mac("run", "--domain", "arith", "--meta-agent", "command", "--command", writes_agent(CATCHING_AGENT),
                  "--task-model", "openai:m", "--base-url", fake.url, "--budget", "smoke", "--dev-time", "5",
                  "--jobs-dir", str(tmp_path / "jobs"), "--job", "down", cwd=tmp_path)
        artifact = write_agent(tmp_path / "a", CATCHING_AGENT)
        evaluated = mac("eval", "--domain", "arith", "--split", "dev", "--first-k", "5", "--artifact", str(artifact),
                        "--task-model", "openai:m", "--base-url", fake.url, "--json", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    result = TrialResult.load(tmp_path / "jobs" / "down" / "arith-command-s0" / "result.json")
    assert result.status == "infrastructure_error" and result.test is not None  # kept for inspection
    assert result.usage["verify"].upstream_errors == result.test.total and result.usage["verify"].requests == 0
    assert result.reason.startswith("infrastructure: 60 of 60 task-model calls failed upstream in verify")
    assert "infrastructure_error" in run.stdout

    assert evaluated.returncode == 1, evaluated.stdout + evaluated.stderr
    assert json.loads(evaluated.stdout)["usage"]["upstream_errors"] == 5
    assert "infrastructure: 5 of 5 task-model calls failed upstream" in evaluated.stderr.replace("\n", " ")

    resumed = mac("run", "--resume", "down", "--retry-failed", "--jobs-dir", str(tmp_path / "jobs"), cwd=tmp_path)
    # the fake is gone now: the resumed job's preflight refuses to retry against a dead endpoint
    assert resumed.returncode == 2 and "cannot be reached" in resumed.stderr, resumed.stdout + resumed.stderr
    assert "arith-command-s0: retry" in resumed.stdout


def test_a_crashing_meta_agent_shows_its_exit_code_and_stderr(tmp_path):
    run = mac("run", "--domain", "arith", "--meta-agent", "command", "--command",
              "echo 'Traceback: OverflowError: cannot convert float infinity' >&2; exit 3", "--budget", "smoke",
              "--dev-time", "5", "--jobs-dir", str(tmp_path / "jobs"), "--job", "crash", cwd=tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr  # no artifact: a failure, not a quiet 0
    out = run.stdout.replace("\n", " ")
    assert "the meta-agent exited with code 3" in out and "OverflowError: cannot convert float infinity" in out
    result = TrialResult.load(tmp_path / "jobs" / "crash" / "arith-command-s0" / "result.json")
    assert result.meta_agent_exit.returncode == 3
    assert "OverflowError" in result.meta_agent_exit.stderr_tail


def test_an_infinite_budget_is_refused(tmp_path):
    for value in ("inf", "nan", "-inf"):
        run = mac("run", "--domain", "arith", "--dev-time", value, "--jobs-dir", str(tmp_path / "jobs"), cwd=tmp_path,
                  timeout=60)
        assert run.returncode == 2 and "--dev-time" in run.stderr, run.stderr
    evaluated = mac("eval", "--domain", "arith", "--split", "dev", "--artifact", str(write_agent(tmp_path / "a", "")),
                    "--timeout", "inf", cwd=tmp_path, timeout=60)
    assert evaluated.returncode == 2 and "--timeout must be a finite number" in evaluated.stderr
    assert not (tmp_path / "jobs").exists()


def test_a_raising_artifact_shows_its_traceback_and_exits_non_zero(tmp_path):
    artifact = write_agent(tmp_path / "a", RAISING_AGENT)
    done = mac("eval", "--domain", "arith", "--split", "dev", "--first-k", "2", "--artifact", str(artifact),
               cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 1, done.stdout + done.stderr
    err = done.stderr
    assert "artifact error: RuntimeError: boom: cannot parse" in err
    assert 'agent.py", line 11, in solve' in err and 'agent.py", line 6, in parse' in err, err
    assert "mac/sdk/run.py" not in err
