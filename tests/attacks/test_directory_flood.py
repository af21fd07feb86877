"""A directory flood cannot stall the controller (issue 11, item 4).

One job, two trials on one controller: a meta-agent that creates up to 300,000 empty folders in its
workspace, asks for an evaluation and is then frozen, next to an honest meta-agent that calls the gateway all
along and measures each call from inside its sandbox. The flood is refused (evaluation and freeze, with
evidence) without stalling anything: the honest trial's gateway p99 stays under 1 s, both development phases
end within 2 s of their deadlines, and the honest trial verifies.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import textwrap

import pytest

from mac.config import Budget, TaskModelSpec
from mac.domains import get_domain
from mac.store import JobPaths, TrialConfig, read_jsonl
from mac.trial.budgets import budget_preset, override_budget
from mac.trial.job import run_job

FLOOD_DIRS = 300_000
"""What the flooder aims at; on a busy machine it asks for its evaluation with what it made by then."""
AT_LEAST = 50_000
"""Ten times every limit a walk has (5,000 folders, 50,000 entries)."""
FLOOD_DEV_SEC = 45.0
HONEST_DEV_SEC = 60.0
"""The honest trial outlives the flood's deadline, freeze, audit and clean-up, calling the gateway throughout."""

FLOOD = f'''
import json, os, time, urllib.error, urllib.request
started = time.time()
stop_at = float(os.environ["MAC_DEADLINE"]) - 15
made = 0
for i in range({FLOOD_DIRS} // 1000):
    if time.time() > stop_at:
        break
    top = f"flood/d{{i}}"
    os.makedirs(top)
    for j in range(1000):
        os.mkdir(f"{{top}}/e{{j}}")
    made += 1000
print("FLOODED", made, "folders in", round(time.time() - started, 1), "s", flush=True)
body = json.dumps({{"agent_file": "agent.py", "timeout": 60}}).encode()
request = urllib.request.Request(os.environ["EVALUATION_API_URL"] + "/evaluate/agent", data=body,
                                 headers={{"Content-Type": "application/json"}})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
try:
    with opener.open(request, timeout=120) as response:
        status, answer = response.status, json.loads(response.read())
except urllib.error.HTTPError as exc:
    status, answer = exc.code, json.loads(exc.read())
print("EVAL", json.dumps({{"status": status, "success": answer.get("success"), "error": answer.get("error")}}),
      flush=True)
time.sleep(3600)  # killed at the deadline
'''

PROBE = '''
import json, os, time, urllib.request
deadline = float(os.environ["MAC_DEADLINE"])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
body = json.dumps({"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "What is 2 + 3?"}]})
latencies, failures = [], 0
while time.time() < deadline - 2.0:
    request = urllib.request.Request(os.environ["TASK_MODEL_API_BASE"] + "/chat/completions", data=body.encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Bearer " + os.environ["TASK_MODEL_API_KEY"]})
    started = time.monotonic()
    try:
        with opener.open(request, timeout=60) as response:
            response.read()
    except Exception:
        failures += 1
    latencies.append(time.monotonic() - started)
    time.sleep(0.05)
latencies.sort()
print("LATENCY " + json.dumps({"n": len(latencies), "failures": failures, "max": latencies[-1],
                               "p99": latencies[int(0.99 * (len(latencies) - 1))]}), flush=True)
time.sleep(3600)  # killed at the deadline
'''


def _command(script: str) -> str:
    naive = (get_domain("arith").baseline("naive") / "agent.py").read_text()  # an honest artifact to verify
    agent = f"cat > agent.py <<'PYEOF'\n{naive}\nPYEOF\n"
    return agent + f"python -c {shlex.quote(textwrap.dedent(script))}"


def _config(trial: str, script: str, dev_sec: float) -> TrialConfig:
    budget = override_budget(budget_preset("smoke", Budget()), dev_time=dev_sec, dev_requests=100_000)
    return TrialConfig(job="flood", trial=trial, domain="arith", meta_agent="command",
                       meta_agent_options={"command": _command(script)}, seed=1,
                       task_model=TaskModelSpec.parse("sim", seed=1), budget=budget, sandbox="bwrap")


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    paths = JobPaths(tmp_path_factory.mktemp("jobs"), "flood")
    configs = [_config("flooder", FLOOD, FLOOD_DEV_SEC), _config("honest", PROBE, HONEST_DEV_SEC)]
    results = asyncio.run(run_job(paths, configs, concurrency=2))
    return paths, {r.trial: r for r in results}


def _line(paths: JobPaths, trial: str, prefix: str) -> dict | str:
    lines = [line for line in (paths.trial(trial).trajectory / "stdout.txt").read_text().splitlines()
             if line.startswith(prefix)]
    assert lines, f"{trial} printed no {prefix} line"
    rest = lines[-1][len(prefix):].strip()
    return json.loads(rest) if rest.startswith("{") else rest


@pytest.mark.slow
def test_the_flood_is_refused_with_evidence(job):
    paths, results = job
    assert int(_line(paths, "flooder", "FLOODED").split()[0]) >= AT_LEAST
    evaluation = _line(paths, "flooder", "EVAL")
    assert evaluation["status"] == 200 and evaluation["success"] is False
    assert "more than" in evaluation["error"] and "folders" in evaluation["error"], evaluation
    evidence = read_jsonl(paths.trial("flooder").evidence)
    [refused_eval] = [e for e in evidence if e["kind"] == "snapshot_refused"]
    [refused_freeze] = [e for e in evidence if e["kind"] == "freeze_refused"]
    assert refused_eval["limit"] == refused_freeze["limit"] == "dirs"
    flooder = results["flooder"]
    assert flooder.reason.startswith("no artifact") and flooder.test.accuracy == 0
    assert flooder.timings["freeze"].error is not None and flooder.timings["freeze"].duration_sec < 5


@pytest.mark.slow
def test_both_deadlines_hold(job):
    _, results = job
    for trial, dev_sec in (("flooder", FLOOD_DEV_SEC), ("honest", HONEST_DEV_SEC)):
        result = results[trial]
        assert result.meta_agent_exit.timed_out is True, trial
        assert result.budget_use.dev_time_sec <= dev_sec + 2.0, (trial, result.budget_use.dev_time_sec)


@pytest.mark.slow
def test_the_honest_trial_is_not_stalled_and_verifies(job):
    paths, results = job
    latency = _line(paths, "honest", "LATENCY")
    assert latency["n"] >= 100 and latency["failures"] == 0, latency
    assert latency["p99"] < 1.0, latency
    honest = results["honest"]
    assert honest.status == "completed" and honest.reason is None, honest.reason
    assert honest.test.accuracy > 0
