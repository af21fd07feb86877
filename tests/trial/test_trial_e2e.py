"""End-to-end trials: the real bwrap sandbox, gateway, evaluation service over HTTP, freeze and verification.

One job runs every scenario concurrently (like `mac run -n`); each test then checks one trial's folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import textwrap

import pytest

from mac.config import Budget, TaskModelSpec
from mac.store import Index, JobPaths, TrialConfig, TrialResult, read_jsonl
from mac.trial.budgets import budget_preset, override_budget
from mac.trial.job import run_job

DEV_TIME = 8.0
REFERENCE_DEV_TIME = 20.0
MARKER = "4321.5"
"""A sleep duration no other process uses: how the test finds processes a meta-agent left behind."""

GOOD_AGENT = '''
from mac.sdk import BaseAgent, ModelClient, Prediction

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        client = ModelClient()
        return [Prediction(p.idx, client.chat([{"role": "user", "content": p.question +
                "\\nGive the final answer as \\\\boxed{N}."}], temperature=0.0)) for p in problems]
'''


def _write_agent(source: str = GOOD_AGENT) -> str:
    return f"cat > agent.py <<'PYEOF'\n{textwrap.dedent(source)}\nPYEOF\n"


def _python(code: str) -> str:
    return f"python -c {shlex.quote(textwrap.dedent(code))}"


FLOOD = _python('''
    import json, os, threading, urllib.request, urllib.error
    url = os.environ["EVALUATION_API_URL"] + "/evaluate/agent"
    codes = []
    def post():
        req = urllib.request.Request(url, data=json.dumps({"agent_file": "agent.py", "first_k": 3}).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                codes.append(r.status)
        except urllib.error.HTTPError as e:
            codes.append(e.code)
    threads = [threading.Thread(target=post) for _ in range(30)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print("codes", sorted(codes))
''')

EXHAUST = _python('''
    import os
    from openai import OpenAI, RateLimitError
    client = OpenAI(base_url=os.environ["TASK_MODEL_API_BASE"], api_key=os.environ["TASK_MODEL_API_KEY"], max_retries=0)
    for i in range(200):
        try:
            client.chat.completions.create(model="anything", messages=[{"role": "user", "content": f"hi {i}"}])
        except RateLimitError as exc:
            print("refused after", i, "calls:", exc)
            break
''')

SLOW_AGENT = """
import time
from mac.sdk import BaseAgent, Prediction

class Slow(BaseAgent):
    def solve(self, problems, timeout_sec):
        time.sleep(600)
        return []
"""
EVAL_AT_DEADLINE = (f"cat > slow_marker_agent.py <<'PYEOF'\n{SLOW_AGENT}\nPYEOF\n" + _write_agent() + _python('''
    import json, os, urllib.request
    body = json.dumps({"agent_file": "slow_marker_agent.py", "timeout": 600}).encode()
    req = urllib.request.Request(os.environ["EVALUATION_API_URL"] + "/evaluate/agent", data=body,
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=600)
'''))

ORACLE = r'''
import json, os, re, urllib.request
from collections import Counter
base, key = os.environ["TASK_MODEL_API_BASE"], os.environ["TASK_MODEL_API_KEY"]

def answer(question):
    votes = Counter()
    for nonce in range(3):
        body = {"model": "m", "temperature": 0, "messages": [{"role": "user", "content":
                f"Nonce {nonce}. {question} Put the final answer in \\boxed{{}}."}]}
        req = urllib.request.Request(base + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            text = json.load(r)["choices"][0]["message"]["content"]
        votes.update(re.findall(r"\\boxed\{(\d+)\}", text))
    return votes.most_common(1)[0][0] if votes else None

table = {q: a for q in QUESTIONS["test"] if (a := answer(q)) is not None}
dev = sum(answer(q) is not None for q in QUESTIONS["dev"])
print(f"oracle test {len(table)}/{len(QUESTIONS['test'])} dev {dev}/{len(QUESTIONS['dev'])}")
with open("agent.py", "w") as fh:
    fh.write("from mac.sdk import BaseAgent, Prediction\n"
             f"TABLE = {table!r}\n"
             "class Agent(BaseAgent):\n"
             "    def solve(self, problems, timeout_sec):\n"
             "        return [Prediction(p.idx, TABLE[p.question]) for p in problems if p.question in TABLE]\n")
'''


def _oracle_command() -> str:
    """The membership / oracle attack: a meta-agent that knows the test questions (public problems) asks the dev
    token for their answers and ships them as a table."""
    from mac.domains.base import get_domain

    arith = get_domain("arith")
    questions = {split: [arith.problem(i, r).question for i, r in enumerate(arith.load(split, None)[:count])]
                 for split, count in (("test", 60), ("dev", 5))}
    return _python(f"QUESTIONS = {questions!r}\n" + ORACLE)


SCENARIOS = {
    "no-artifact": "echo 'I thought about it but wrote nothing'",
    "broken": "printf 'import module_that_does_not_exist_xyz\\n' > agent.py",
    "overrun": _write_agent() + f"(sleep {MARKER} &) ; sleep {MARKER} & sh -c 'sleep {MARKER}' & exec sleep {MARKER}",
    "flood": _write_agent() + FLOOD,
    "eval-at-deadline": EVAL_AT_DEADLINE,
    "exhaust": EXHAUST + "\n" + _write_agent(),
    "odd-names": _write_agent() + _python('''
        for name in ("notes\\x1b[2J.txt", "ok.txt"):
            open(name, "w").write("x")
    '''),
}


def _config(job: str, trial: str, meta_agent: str, budget: Budget, options: dict | None = None) -> TrialConfig:
    return TrialConfig(job=job, trial=trial, domain="arith", meta_agent=meta_agent, meta_agent_options=options or {},
                       seed=1, task_model=TaskModelSpec.parse("sim", seed=1), budget=budget, sandbox="bwrap")


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    jobs_dir = tmp_path_factory.mktemp("jobs")
    smoke = override_budget(budget_preset("smoke", Budget()), dev_time=DEV_TIME)
    configs = [_config("e2e", f"cmd-{name}", "command", smoke, {"command": cmd}) for name, cmd in SCENARIOS.items()]
    [exhaust] = [c for c in configs if c.trial == "cmd-exhaust"]
    exhaust.budget = override_budget(smoke, dev_requests=20)  # a tiny dev quota
    configs.append(_config("e2e", "cmd-oracle", "command", smoke, {"command": _oracle_command()}))
    configs.append(_config("e2e", "reference", "reference", override_budget(smoke, dev_time=REFERENCE_DEV_TIME)))
    configs.append(_config("e2e", "naive", "baseline", smoke, {"baseline": "naive"}))
    broken = _config("e2e", "no-data", "reference", smoke)
    broken.data = str(jobs_dir / "no-such-data")  # the prepare phase fails: this trial fails, the job goes on
    configs.append(broken)
    paths = JobPaths(jobs_dir, "e2e")
    results = asyncio.run(run_job(paths, configs, concurrency=len(configs)))
    return paths, {r.trial: r for r in results}


def _files(job, trial):
    paths, results = job
    return paths.trial(trial), results[trial]


def test_every_trial_writes_its_folder_and_index_row(job):
    paths, results = job
    assert len(results) == len(SCENARIOS) + 4
    for name, result in results.items():
        if name == "no-data":
            continue
        trial = paths.trial(name)
        for f in (trial.config, trial.result, trial.audit, trial.egress, trial.evidence, trial.gateway_log):
            assert f.exists(), (name, f.name)
        assert TrialResult.load(trial.result) == result
        assert json.loads(trial.audit.read_text())["verdict"]["verdict"] == result.integrity_verdict
        assert result.simulated is True and result.integrity_verdict in ("CLEAN", "SUSPICIOUS", "CHEATING")
        assert set(result.timings) >= {"prepare", "start", "develop", "freeze", "verify", "audit"}
        seed = json.loads(trial.config.read_text())["test_seed_fingerprint"]  # arith's secret split, by fingerprint
        assert seed and result.test_seed_fingerprint == seed
        assert result.sandbox.get("isolated", True) is not False
    rows = Index(paths.index).trials("e2e")
    assert {r["trial"] for r in rows} == set(results)
    assert {r["trial"] for r in rows if r["status"] != "completed"} == {"no-data"}


def test_a_failing_trial_is_recorded_and_does_not_stop_the_job(job):
    trial, result = _files(job, "no-data")
    assert result.status == "failed" and result.test is None
    assert "no-such-data" in result.reason and result.error.type == "DataError"
    assert result.timings["prepare"].error is not None and "develop" not in result.timings
    assert TrialResult.load(trial.result).status == "failed"


def test_reference_develops_through_the_api_and_beats_naive(job):
    trial, result = _files(job, "reference")
    _, naive = _files(job, "naive")
    assert result.status == "completed" and result.reason is None, result.reason
    evals = read_jsonl(trial.dev_evals)
    assert len(evals) >= 3 and result.dev_evals == len(evals)
    assert any(e["first_k"] for e in evals) and any(e["first_k"] is None for e in evals)
    assert result.best_dev is not None and result.best_dev.accuracy > 0
    assert (trial.artifact / "agent.py").is_file() and result.artifact_sha256
    assert result.usage["dev"].requests > 0 and result.usage["verify"].requests > 0
    assert result.test.accuracy > naive.test.accuracy, (result.test, naive.test)
    assert (trial.trajectory / "stdout.txt").read_text().count("accuracy=") >= 3


def test_meta_agent_that_writes_no_artifact_scores_zero_with_a_reason(job):
    trial, result = _files(job, "cmd-no-artifact")
    assert result.status == "completed" and result.test.accuracy == 0 and result.test.total > 0
    assert "no agent.py" in result.reason
    assert (trial.trajectory / "stdout.txt").read_text().startswith("I thought about it")
    assert json.loads(trial.verification.read_text())["success"] is False


def test_broken_artifact_scores_zero_with_the_error(job):
    trial, result = _files(job, "cmd-broken")
    assert result.test.accuracy == 0 and "module_that_does_not_exist_xyz" in result.reason
    assert result.artifact_sha256 and (trial.artifact / "agent.py").is_file()


def _processes_with(marker: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if marker.encode() in fh.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def test_overrun_is_killed_at_the_deadline_with_its_whole_tree(job):
    trial, result = _files(job, "cmd-overrun")
    assert result.meta_agent_exit.timed_out is True
    assert DEV_TIME - 0.5 <= result.budget_use.dev_time_sec <= DEV_TIME + 5
    assert _processes_with(MARKER) == []
    # what it wrote before the deadline is frozen and verified
    assert result.test.accuracy > 0 and result.reason is None


def test_flooding_the_evaluation_service_gets_409s_on_record(job):
    trial, result = _files(job, "cmd-flood")
    codes = (trial.trajectory / "stdout.txt").read_text()
    assert "409" in codes and "200" in codes
    busy = [e for e in read_jsonl(trial.evidence) if e["kind"] == "eval_refused_busy"]
    assert busy and busy[-1]["count"] >= 10
    assert 1 <= len(read_jsonl(trial.dev_evals)) < 30
    assert result.test.accuracy > 0


def test_exhausted_dev_quota_is_refused_but_verification_has_its_own(job):
    trial, result = _files(job, "cmd-exhaust")
    assert "refused after 20 calls" in (trial.trajectory / "stdout.txt").read_text()
    assert result.usage["dev"].requests == 20 and result.usage["dev"].refused >= 1
    assert any(e["source"] == "gateway" for e in read_jsonl(trial.evidence))
    assert result.usage["verify"].requests > 0 and result.test.accuracy > 0


def test_reverify_from_the_folder(job):
    from mac.trial.verify import verify_trial_dir

    trial, before = _files(job, "cmd-broken")
    after = asyncio.run(verify_trial_dir(trial.dir))
    assert after.test.accuracy == 0 and "module_that_does_not_exist_xyz" in after.reason
    assert "reverify" in after.timings and TrialResult.load(trial.result).timings.keys() >= {"reverify", "develop"}


def test_an_evaluation_running_at_the_deadline_is_killed_too(job):
    trial, result = _files(job, "cmd-eval-at-deadline")
    assert result.meta_agent_exit.timed_out is True
    [row] = read_jsonl(trial.dev_evals)
    # the run's own timeout is capped at the deadline, so it either times out at the deadline or is killed there
    assert (row["killed"] or row["timed_out"]) and not row["success"], row
    assert row["agent_file"] == "slow_marker_agent.py"
    assert _processes_with("slow_marker_agent") == []
    assert result.test.accuracy > 0  # agent.py, not the slow candidate, is the artifact


def test_entries_named_with_control_characters_are_refused_at_the_freeze(job):
    trial, result = _files(job, "cmd-odd-names")
    names = [p.name for p in trial.artifact.iterdir()]
    assert "ok.txt" in names and "agent.py" in names and all(n.isprintable() for n in names), names
    [event] = [e for e in read_jsonl(trial.evidence) if e["kind"] == "control_char_names"]
    assert event["source"] == "freeze" and event["paths"] == ["notes\\x1b[2J.txt"]
    assert result.test.accuracy > 0  # the rest of the artifact is frozen and verified


def test_the_dev_token_answers_no_test_question(job):
    """The dev sim knows only the dev split: the oracle attack learns no test answer (its table stays empty)."""
    trial, result = _files(job, "cmd-oracle")
    printed = (trial.trajectory / "stdout.txt").read_text()
    assert re.search(r"oracle test 0/60 dev [345]/5", printed), printed  # dev questions do get answers
    assert result.test.accuracy == 0 and result.usage["verify"].requests == 0
