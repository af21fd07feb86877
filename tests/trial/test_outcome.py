"""What a finished run means (mac.trial.outcome): statuses and exit codes from real result records."""

from __future__ import annotations

from mac.evaluation.result import EvalResult
from mac.records import Usage
from mac.store import MetaAgentExit, Score, TrialResult
from mac.trial.outcome import (EXIT_FAILURES, EXIT_OK, eval_failure, failure_notes, finished_status, run_exit_code,
                               upstream_error_rate)


HALF = Score(accuracy=50.0, correct=30, total=60)


def result(test: Score | None = HALF, **usage: Usage) -> TrialResult:
    return TrialResult(job="j", trial="t", domain="arith", meta_agent="reference", seed=0, task_model="m",
                       simulated=False, test=test, usage=usage)


def test_upstream_errors_past_the_threshold_in_any_phase_make_an_infrastructure_error():
    healthy = result(dev=Usage(requests=1000, upstream_errors=5), verify=Usage(requests=60))
    assert finished_status(healthy) == "completed" and healthy.reason is None
    # a healthy development does not hide a verification whose upstream died
    died = result(dev=Usage(requests=1000), verify=Usage(requests=10, upstream_errors=50))
    assert finished_status(died) == "infrastructure_error"
    assert died.reason.startswith("infrastructure: 50 of 60 task-model calls failed upstream in verify (83% > 20%)")
    assert finished_status(result(verify=Usage(requests=4, upstream_errors=1)), threshold=0.25) == "completed"
    assert finished_status(result(verify=Usage(requests=3, upstream_errors=1)), threshold=0.2) == "infrastructure_error"
    assert finished_status(result(test=None, verify=Usage(upstream_errors=60))) == "failed"  # no score at all
    # quota refusals are the artifact's own doing, not the infrastructure's
    assert finished_status(result(verify=Usage(requests=5, refused=500))) == "completed"
    assert upstream_error_rate(Usage()) is None


def test_an_artifact_reason_stays_after_the_infrastructure_one():
    r = result(verify=Usage(upstream_errors=60))
    r.reason = "partial: 3 missing predictions"
    assert finished_status(r) == "infrastructure_error"
    assert r.reason.endswith("; partial: 3 missing predictions") and r.reason.startswith("infrastructure:")
    assert finished_status(r) == "infrastructure_error" and r.reason.count("infrastructure:") == 1


def test_exit_codes_of_a_job():
    clean = result(verify=Usage(requests=60))
    clean.status = "completed"
    broken = result()
    broken.status, broken.reason = "completed", "broken artifact: RuntimeError: boom"
    infra = result()
    infra.status, infra.reason = "infrastructure_error", "infrastructure: ..."
    assert run_exit_code([clean]) == EXIT_OK
    for bad in (broken, infra):
        assert run_exit_code([clean, bad]) == EXIT_FAILURES


def test_the_notes_show_why_and_a_crashed_meta_agents_stderr():
    crashed = result()
    crashed.status, crashed.reason = "completed", "no artifact: the meta-agent left no agent.py in its workspace"
    crashed.meta_agent_exit = MetaAgentExit(returncode=3, stderr_tail="OverflowError: cannot convert float infinity")
    at_deadline = result()
    at_deadline.status = "completed"
    at_deadline.meta_agent_exit = MetaAgentExit(returncode=-9, timed_out=True, stderr_tail="killed")
    notes = failure_notes([crashed, at_deadline])
    assert [n[1].split(":")[0] for n in notes] == ["completed", "the meta-agent exited with code 3; last lines of its stderr"]
    assert notes[1][1].endswith("OverflowError: cannot convert float infinity")


def test_eval_failures():
    ok = EvalResult(success=True, accuracy=0.0, total=3, scores=[0, 0, 0], usage=Usage(requests=3))
    assert eval_failure(ok) is None  # a score of 0 is a clean run
    assert eval_failure(ok.model_copy(update={"missing_predictions": [2]})) == "1 missing predictions"
    assert eval_failure(EvalResult(success=False, error="no output: no result file")) == "no output: no result file"
    infra = ok.model_copy(update={"usage": Usage(requests=1, upstream_errors=2), "split": "dev"})
    assert eval_failure(infra) == "infrastructure: 2 of 3 task-model calls failed upstream in dev (67% > 20%)"
