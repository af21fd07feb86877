"""`mac run --resume`: the controller is SIGKILLed mid-job, its sandboxes die with it, and the resume finishes
the job without touching finished trials or losing anything of the interrupted ones. Plus the phase decision on
synthetic trial folders."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mac.config import Budget, Quota, TaskModelSpec
from mac.errors import ConfigError
from mac.metaagents import get_metaagent
from mac.metaagents.trajectory import read_trajectory, total_usage
from mac.records import Usage
from mac.sandbox.snapshot import content_hash, snapshot_workspace
from mac.store import Index, JobPaths, PhaseTiming, Score, TrialConfig, TrialPaths, TrialResult, read_jsonl
from mac.store.atomic import append_jsonl, write_json_atomic
from mac.domains.base import get_domain
from mac.trial.budgets import budget_preset, override_budget
from mac.trial.job import job_configs, job_lock, resume_job, run_job
from mac.trial.lifecycle import new_result
from mac.trial.resume import ResumePlan, plan_trial, quota_left, recover_workspace

MAC = [sys.executable, "-c", "from mac.cli import app; app()"]
MARKER = "9753.25"
"""The sleep of a meta-agent waiting out its budget: how the test finds its sandboxed processes."""

BUILDER = textwrap.dedent(f'''
    import json, os, pathlib, time, urllib.request
    first = not pathlib.Path("notes.txt").exists()
    pathlib.Path("agent.py").write_text(
        "from mac.sdk import BaseAgent, Prediction\\n"
        "class A(BaseAgent):\\n"
        "    def solve(self, problems, timeout_sec):\\n"
        "        return [Prediction(p.idx, '0') for p in problems]\\n")
    with open("notes.txt", "a") as notes:
        notes.write(f"run {{time.time()}}\\n")
    request = urllib.request.Request(os.environ["EVALUATION_API_URL"] + "/evaluate/agent",
                                     data=json.dumps({{"agent_file": "agent.py"}}).encode(),
                                     headers={{"Content-Type": "application/json"}})
    urllib.request.urlopen(request, timeout=120).read()
    if first and os.environ["MAC_SEED"] != "0":
        os.execvp("sleep", ["sleep", "{MARKER}"])
''')
"""Seed 0 evaluates once and ends; the others evaluate once, then wait for their deadline (the first time)."""


def mac(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*MAC, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def marked_processes() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if MARKER.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def status_of(trial: Path) -> str | None:
    try:
        return TrialResult.load(trial / "result.json").status
    except (OSError, ValueError):
        return None


def saved_dev_time(trial: Path) -> float:
    """The development time the controller's heartbeat has saved so far."""
    try:
        return TrialResult.load(trial / "result.json").budget_use.dev_time_sec
    except (OSError, ValueError):
        return 0.0


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def file_states(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.mark.timeout(120)
def test_sigkilled_job_resumes_without_losing_anything(tmp_path):
    jobs = tmp_path / "jobs"
    job = jobs / "killed"
    trials = [job / f"arith-command-s{seed}" for seed in range(3)]
    controller = subprocess.Popen(
        [*MAC, "run", "--domain", "arith", "--meta-agent", "command", "--command",
         f"python -c {shlex.quote(BUILDER)}", "--seeds", "3", "-n", "3", "--budget", "smoke", "--dev-time", "40",
         "--jobs-dir", str(jobs), "--job", "killed"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: status_of(trials[0]) == "completed" and all(
            read_jsonl(t / "dev_evals.jsonl") and saved_dev_time(t) > 0 for t in trials[1:])
            and len(marked_processes()) >= 2, 90, "seed 0 completed while seeds 1 and 2 are mid-development")
        os.kill(controller.pid, signal.SIGKILL)  # the controller only: its sandboxes must die with it
        controller.wait(10)
        wait_for(lambda: not marked_processes(), 10, "the meta-agents' sandboxes to die with their controller")
    finally:
        if controller.poll() is None:
            os.killpg(controller.pid, signal.SIGKILL)
            controller.wait(10)

    kept = file_states(trials[0])
    kept_result = (trials[0] / "result.json").read_bytes()
    evals_before = {t.name: (t / "dev_evals.jsonl").read_text() for t in trials[1:]}
    for trial in trials[1:]:
        assert status_of(trial) == "running"

    done = mac("run", "--resume", "killed", "--jobs-dir", str(jobs), "-n", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "continue-development" in done.stdout and "SIMULATED" in done.stdout

    assert (trials[0] / "result.json").read_bytes() == kept_result
    assert file_states(trials[0]) == kept
    stale = [*Path("/sys/fs/cgroup").glob(f"*/mac/sbx-{controller.pid}-*"),
             *Path("/sys/fs/cgroup").glob(f"mac/sbx-{controller.pid}-*")]
    assert not stale, stale  # the dead controller's cgroups were removed by the resume's sandbox backend
    rows = {row["trial"]: row for row in Index(jobs / "index.sqlite").trials("killed")}
    assert set(rows) == {t.name for t in trials}
    for trial in trials[1:]:
        result = TrialResult.load(trial / "result.json")
        assert result.status == "completed" and result.test is not None and result.test.total > 0
        [resumed] = result.resumed
        assert resumed.policy == "continue-development" and resumed.from_phase == "develop"
        # at least one heartbeat was saved (~5 s; the heartbeat starts a moment before development does)
        assert 0 < resumed.dev_spent_sec < 40 and resumed.dev_left_sec == pytest.approx(40 - resumed.dev_spent_sec)
        assert resumed.timings_before["develop"].finished_at is None
        evals = (trial / "dev_evals.jsonl").read_text()
        assert evals.startswith(evals_before[trial.name]) and len(read_jsonl(trial / "dev_evals.jsonl")) == 2
        assert result.dev_evals == 2
        assert result.budget_use.dev_time_sec < 40 + 5
        # the workspace as it was: the second run of the builder found the first run's notes
        assert len((trial / "artifact" / "notes.txt").read_text().splitlines()) == 2
        assert rows[trial.name]["status"] == "completed"
        assert rows[trial.name]["test_accuracy"] == result.test.accuracy
        assert rows[trial.name]["artifact_sha256"] == result.artifact_sha256


@pytest.mark.timeout(150)
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stopped_job_is_saved_as_interrupted_and_resumes(tmp_path, stop):
    """Ctrl-C (or the SIGTERM of a cluster scheduler) mid-development: the controller exits 130 at once, saying how
    to continue; the trial is "interrupted" with development unfinished, and the resume continues it."""
    jobs = tmp_path / "jobs"
    trial = jobs / "stopped" / "arith-command-s0"
    builder = BUILDER.replace('first and os.environ["MAC_SEED"] != "0"', "first")  # seed 0 waits too
    controller = subprocess.Popen(
        [*MAC, "run", "--domain", "arith", "--meta-agent", "command", "--command", f"python -c {shlex.quote(builder)}",
         "--budget", "smoke", "--dev-time", "40", "--jobs-dir", str(jobs), "--job", "stopped"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for(lambda: read_jsonl(trial / "dev_evals.jsonl") and marked_processes(), 60, "the first evaluation")
        controller.send_signal(stop)
        _, err = controller.communicate(timeout=30)
    finally:
        if controller.poll() is None:
            os.killpg(controller.pid, signal.SIGKILL)
            controller.wait(10)
    assert controller.returncode == 130, err
    assert f"mac run --resume {jobs / 'stopped'}" in err.replace("\n", "")
    assert not marked_processes()  # its sandboxes were stopped with it
    result = TrialResult.load(trial / "result.json")
    assert result.status == "interrupted" and result.timings["develop"].finished_at is None
    assert "audit" not in result.timings and 0 < result.budget_use.dev_time_sec < 40
    stale_scratch, spent = Path(result.scratch), result.budget_use.dev_time_sec
    assert stale_scratch.is_dir()  # kept for the resume

    done = mac("run", "--resume", str(jobs / "stopped"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    result = TrialResult.load(trial / "result.json")
    [resumed] = result.resumed
    assert resumed.policy == "continue-development" and result.status == "completed" and result.dev_evals == 2
    assert resumed.dev_spent_sec == pytest.approx(spent, abs=1.0)  # a clean stop saved the exact figure
    assert not stale_scratch.exists()


# -- the phase decision, on synthetic trial folders -----------------------------------------------------------

def make_config(dev_time: float = 60.0, requests: int | None = 100) -> TrialConfig:
    budget = Budget(dev_time_sec=dev_time, dev_quota=Quota(requests=requests))
    return TrialConfig(job="j", trial="t", domain="arith", meta_agent="command", task_model=TaskModelSpec(),
                       budget=budget)


def make_trial(tmp_path: Path, config: TrialConfig, *, phases: dict[str, bool], dev_time_sec: float = 0.0,
               dev_usage: Usage | None = None, status: str = "running", **fields) -> TrialPaths:
    """A trial folder whose result.json has `phases` started (value: finished)."""
    paths = TrialPaths(tmp_path / "jobs" / config.job / config.trial)
    paths.create()
    write_json_atomic(paths.config, config)
    result = new_result(config)
    now = time.time()
    for name, finished in phases.items():
        result.timings[name] = PhaseTiming(started_at=now - 30, finished_at=now - 20 if finished else None)
    result.budget_use.dev_time_sec = dev_time_sec
    result.budget_use.dev_usage = dev_usage or Usage()
    result.status = status
    for key, value in fields.items():
        setattr(result, key, value)
    write_json_atomic(paths.result, result)
    return paths


DEV_CUT = {"prepare": True, "start": True, "develop": False}


def test_plan_keeps_finished_trials_and_starts_unstarted_ones_over(tmp_path):
    config = make_config()
    bare = TrialPaths(tmp_path / "bare")
    assert plan_trial(bare, config).policy == "start-over"
    for status in ("completed", "failed"):
        paths = make_trial(tmp_path / status, config, phases={}, status=status)
        assert plan_trial(paths, config).policy == "keep"
    early = make_trial(tmp_path / "early", config, phases={"prepare": True, "start": False})
    plan = plan_trial(early, config)
    assert (plan.policy, plan.from_phase, plan.phases[0]) == ("start-over", "start", "prepare")


def test_plan_continues_development_with_the_remaining_budget(tmp_path):
    config = make_config(dev_time=60, requests=100)
    paths = make_trial(tmp_path, config, phases=DEV_CUT, dev_time_sec=15.0,
                       dev_usage=Usage(requests=3))
    for _ in range(7):
        append_jsonl(paths.gateway_log, {"phase": "dev", "status": 200, "n": 2, "input_tokens": 10,
                                         "output_tokens": 5})
    append_jsonl(paths.gateway_log, {"phase": "dev", "status": 429, "n": 1})  # refused: not charged
    append_jsonl(paths.gateway_log, {"phase": "verify", "status": 200, "n": 1})
    plan = plan_trial(paths, config)
    assert plan.policy == "continue-development" and plan.from_phase == "develop"
    assert 15.0 <= plan.dev_spent_sec <= 20.0 and plan.dev_left_sec == pytest.approx(60 - plan.dev_spent_sec)
    assert plan.dev_usage_before.requests == 14 and plan.dev_usage_before.output_tokens == 35
    assert plan.dev_quota_left.requests == 86
    assert plan.session_options() == {"dev_seconds": plan.dev_left_sec, "quota": plan.dev_quota_left,
                                      "spent_sec": plan.dev_spent_sec}
    result = plan.start_result(config)
    assert result.resumed[-1].policy == "continue-development" and "develop" in result.resumed[-1].timings_before
    assert result.budget_use.dev_time_sec == plan.dev_spent_sec and result.status == "running"


def test_plan_freezes_when_little_time_or_no_quota_is_left(tmp_path):
    config = make_config(dev_time=60, requests=10)
    late = make_trial(tmp_path / "late", config, phases=DEV_CUT, dev_time_sec=55.0)
    assert plan_trial(late, config).policy == "freeze-workspace"
    spent = make_trial(tmp_path / "spent", config, phases=DEV_CUT, dev_time_sec=5.0)
    for _ in range(10):
        append_jsonl(spent.gateway_log, {"phase": "dev", "status": 200, "n": 1})
    plan = plan_trial(spent, config)
    assert plan.policy == "freeze-workspace" and "quota" in plan.why
    over = make_trial(tmp_path / "over", config, phases={**DEV_CUT, "develop": True, "freeze": False})
    assert plan_trial(over, config).policy == "freeze-workspace"
    assert plan_trial(over, config).phases == ("prepare", "start", "freeze", "verify", "audit")


def test_plan_verifies_a_frozen_artifact_and_audits_a_verified_one(tmp_path):
    config = make_config()
    phases = {**DEV_CUT, "develop": True, "freeze": True, "verify": False}
    paths = make_trial(tmp_path / "frozen", config, phases=phases)
    (paths.artifact).mkdir()
    (paths.artifact / "agent.py").write_text("print('hi')\n")
    result = TrialResult.load(paths.result)
    result.artifact_sha256 = content_hash(paths.artifact)
    write_json_atomic(paths.result, result)
    assert plan_trial(paths, config).policy == "verify-artifact"
    (paths.artifact / "agent.py").write_text("print('changed')\n")  # no longer the frozen artifact: freeze again
    assert plan_trial(paths, config).policy == "freeze-workspace"

    unsaved = make_trial(tmp_path / "unsaved", config, phases={**DEV_CUT, "develop": True, "freeze": False})
    snapshot = snapshot_workspace(paths.workspace, unsaved.artifact)  # frozen, then the controller died
    write_json_atomic(unsaved.trajectory / "freeze.json", snapshot.model_dump(mode="json"))
    plan = plan_trial(unsaved, config)
    assert plan.policy == "verify-artifact" and plan.from_phase == "freeze"
    assert plan.start_result(config).artifact_sha256 == snapshot.sha256

    verified = make_trial(tmp_path / "verified", config, phases={**phases, "verify": True, "audit": False},
                          test=Score(accuracy=50.0, correct=1, total=2))
    plan = plan_trial(verified, config)
    assert (plan.policy, plan.phases) == ("audit-only", ("prepare", "audit"))


def test_quota_left_subtracts_what_was_used():
    quota = Quota(requests=10, output_tokens=100, rpm=5)
    left = quota_left(quota, Usage(requests=4, output_tokens=150))
    assert (left.requests, left.output_tokens, left.rpm, left.input_tokens) == (6, 0, 5, None)


def test_recover_workspace_copies_the_stale_live_workspace_back(tmp_path, monkeypatch):
    scratch_root = tmp_path / "scratch"
    monkeypatch.setenv("MAC_SCRATCH", str(scratch_root))
    stale = scratch_root / "trial-t-abc123"
    (stale / "workspace").mkdir(parents=True)
    (stale / "workspace" / "agent.py").write_text("new\n")
    (stale / "sockets").mkdir()
    config = make_config()
    paths = make_trial(tmp_path, config, phases=DEV_CUT, live_workspace=str(stale / "workspace"))
    (paths.workspace / "agent.py").write_text("old\n")
    plan = plan_trial(paths, config)
    recover_workspace(paths, plan)
    assert (paths.workspace / "agent.py").read_text() == "new\n"
    assert (paths.dir / "workspace.before-resume-1" / "agent.py").read_text() == "old\n"
    assert not stale.exists() and plan.recovered_workspace == str(stale / "workspace")

    outside = tmp_path / "not-scratch" / "workspace"  # a result.json pointing elsewhere is never followed
    outside.mkdir(parents=True)
    paths2 = make_trial(tmp_path / "other", config, phases=DEV_CUT, live_workspace=str(outside))
    recover_workspace(paths2, plan_trial(paths2, config))
    assert outside.is_dir() and not any(paths2.workspace.iterdir())


def test_recover_keeps_the_interrupted_sessions_tool_log_scrubbed(tmp_path, monkeypatch):
    """A dead controller never collected its meta-agent's log: the resume converts it into trajectory/interrupted-1
    (the key scrubbed), and the trial's meta-agent usage counts that session too."""
    monkeypatch.setenv("MAC_SCRATCH", str(tmp_path / "scratch"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-interrupted-key")
    stale = tmp_path / "scratch" / "trial-t-def456"
    (stale / "workspace").mkdir(parents=True)
    (stale / "agent-logs").mkdir()
    adapter = get_metaagent("claude-code")
    turn = {"type": "assistant", "message": {"id": "m1", "content": [{"type": "text", "text":
                                                                       "env: sk-test-interrupted-key"}],
                                              "usage": {"input_tokens": 120, "output_tokens": 30}}}
    (stale / "agent-logs" / adapter.native_log).write_text(json.dumps(turn) + "\n")
    config = make_config().model_copy(update={"meta_agent": "claude-code"})
    paths = make_trial(tmp_path, config, phases=DEV_CUT, live_workspace=str(stale / "workspace"))
    plan = plan_trial(paths, config)
    recover_workspace(paths, plan)

    kept = paths.trajectory / "interrupted-1"
    assert plan.recovered_logs == "trajectory/interrupted-1" and not stale.exists()
    assert "sk-test-interrupted-key" not in "".join(p.read_text() for p in kept.iterdir())
    assert [s.role for s in read_trajectory(kept)] == ["assistant"]
    write_json_atomic(paths.trajectory / "usage.json", {"model_calls": 2, "input_tokens": 80, "output_tokens": 5,
                                                        "cost_usd": 0.25})  # the resumed session's
    total = total_usage(paths.trajectory)
    assert (total.model_calls, total.input_tokens, total.output_tokens, total.cost_usd) == (3, 200, 35, 0.25)

    monkeypatch.delenv("ANTHROPIC_API_KEY")  # no key to scrub with: the log is not copied, and the record says why
    (stale / "agent-logs").mkdir(parents=True)
    (stale / "agent-logs" / adapter.native_log).write_text(json.dumps(turn) + "\n")
    plan = plan_trial(paths, config)
    recover_workspace(paths, plan)
    assert plan.recovered_logs.startswith("not kept") and not (paths.trajectory / "interrupted-2").exists()


def test_one_controller_per_job(tmp_path):
    job = JobPaths(tmp_path, "j")
    with job_lock(job):
        with pytest.raises(ConfigError, match=f"pid {os.getpid()}"):
            with job_lock(job):
                pass
    with job_lock(job):  # released with its holder
        pass


def test_best_dev_prefers_full_split_evaluations():
    history = [{"success": True, "total": 3, "accuracy": 100.0, "time_sec": 1.0},
               {"success": True, "total": 10, "accuracy": 60.0, "time_sec": 2.0},
               {"success": False, "total": 10, "accuracy": 0.0, "time_sec": 3.0}]
    assert ResumePlan.best_dev(history, 10)["accuracy"] == 60.0
    assert json.dumps(ResumePlan.best_dev([], 10)) == "null"


def test_resume_verifies_a_frozen_artifact_and_freezes_a_late_workspace(tmp_path):
    """Crash states past development, made from a finished job's folders: the resume re-runs only what is left."""
    budget = override_budget(budget_preset("smoke", get_domain("arith").default_budget()), dev_time=20)
    configs = job_configs(job="j", domain="arith", meta_agent="command", seeds=2, task_model=TaskModelSpec(),
                          budget=budget, meta_agent_options={"command": f"python -c {shlex.quote(BUILDER)}"},
                          first_seed=0)
    job = JobPaths(tmp_path / "jobs", "j")
    first = asyncio.run(run_job(job, configs[:1], concurrency=1))[0]
    assert first.status == "completed"
    # seed 0 as if killed during verification; seed 1 as if killed late in development
    frozen, late = job.trial(configs[0].trial), job.trial(configs[1].trial)
    result = TrialResult.load(frozen.result)
    result.status, result.test = "running", None
    result.timings["verify"].finished_at = None
    del result.timings["audit"]
    write_json_atomic(frozen.result, result)
    sha = result.artifact_sha256
    late.create()
    write_json_atomic(late.config, configs[1])
    (late.workspace / "agent.py").write_text((frozen.artifact / "agent.py").read_text())
    cut = new_result(configs[1])
    cut.timings = {"prepare": PhaseTiming(started_at=time.time() - 30, finished_at=time.time() - 29),
                   "develop": PhaseTiming(started_at=time.time() - 28)}
    cut.budget_use.dev_time_sec = 18.0
    write_json_atomic(late.result, cut)
    write_json_atomic(job.job_json, {"job": "j", "trials": [c.model_dump(mode="json") for c in configs]})

    results = asyncio.run(resume_job(job, concurrency=2))
    assert [r.status for r in results] == ["completed", "completed"]
    assert results[0].resumed[0].policy == "verify-artifact" and results[0].artifact_sha256 == sha
    assert "develop" not in [r.policy for r in results[0].resumed] and results[0].test.total > 0
    assert results[1].resumed[0].policy == "freeze-workspace" and results[1].artifact_sha256 is not None
    assert "develop" in results[1].resumed[0].timings_before and results[1].meta_agent_exit is None
    assert (late.artifact / "agent.py").is_file() and results[1].test.total > 0


def test_retry_failed_runs_failed_trials_again_and_keeps_the_earlier_attempt(tmp_path):
    data, jobs = tmp_path / "data", tmp_path / "jobs"
    budget = override_budget(budget_preset("smoke", Budget()), dev_time=5)
    configs = job_configs(job="retry", domain="arith", meta_agent="baseline", seeds=1, task_model=TaskModelSpec(),
                          budget=budget, meta_agent_options={"baseline": "naive"}, data=str(data), suffix="-naive")
    paths = JobPaths(jobs, "retry")
    [failed] = asyncio.run(run_job(paths, configs, concurrency=1))
    assert failed.status == "failed"  # its data folder is missing: prepare fails

    data.mkdir()
    for split, offset in (("dev", 0), ("test", 10)):
        rows = [{"id": f"{split}{i}", "question": f"What is {i + offset} plus 2?", "answer": str(i + offset + 2)}
                for i in range(3)]
        (data / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    [kept] = asyncio.run(resume_job(paths, concurrency=1))
    assert kept.status == "failed" and kept.resumed == []  # a plain resume keeps finished trials as they are

    [again] = asyncio.run(resume_job(paths, concurrency=1, retry_failed=True))
    assert again.status == "completed" and again.test.total == 3
    assert again.resumed[-1].policy == "retry" and "retried/arith-baseline-naive-s0.attempt-1" in again.resumed[-1].reason
    earlier = paths.retried / "arith-baseline-naive-s0.attempt-1"
    assert TrialResult.load(earlier / "result.json").status == "failed"  # nothing of the failed attempt is lost
    assert Index(paths.index).trials("retry")[0]["status"] == "completed"
