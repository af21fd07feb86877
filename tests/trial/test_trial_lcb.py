"""`lcb` trials end to end on the built-in fixtures: the reference meta-agent develops code designs through the
evaluation API (programs judged in their own sandboxes), and its frozen artifact beats the naive baseline under
the sim on the test split."""

from __future__ import annotations

import asyncio
import json

import pytest

from mac.config import Budget, TaskModelSpec
from mac.store import JobPaths, TrialConfig, read_jsonl
from mac.trial.budgets import budget_preset, override_budget
from mac.trial.job import run_job

REFERENCE_DEV_TIME = 120.0


def _config(trial: str, meta_agent: str, budget: Budget, options: dict | None = None) -> TrialConfig:
    return TrialConfig(job="lcb-e2e", trial=trial, domain="lcb", meta_agent=meta_agent,
                       meta_agent_options=options or {}, seed=0, task_model=TaskModelSpec.parse("sim"), budget=budget,
                       sandbox="bwrap")


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    jobs_dir = tmp_path_factory.mktemp("jobs")
    smoke = budget_preset("smoke", Budget())
    configs = [_config("reference", "reference", override_budget(smoke, dev_time=REFERENCE_DEV_TIME)),
               _config("naive", "baseline", smoke, {"baseline": "naive"})]
    paths = JobPaths(jobs_dir, "lcb-e2e")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MAC_DATA", str(jobs_dir / "no-data"))  # nothing installed: the fixtures
        results = asyncio.run(run_job(paths, configs, concurrency=2))
    return paths, {r.trial: r for r in results}


@pytest.mark.slow
def test_reference_develops_code_designs_and_beats_naive(job):
    paths, results = job
    reference, naive = results["reference"], results["naive"]
    for result in (reference, naive):
        assert result.status == "completed" and result.reason is None, result.reason
        assert result.integrity_verdict == "CLEAN" and result.simulated
    assert reference.test.accuracy > naive.test.accuracy, (reference.test, naive.test)
    trial = paths.trial("reference")
    evals = read_jsonl(trial.dev_evals)
    assert len(evals) >= 4 and any(e["first_k"] for e in evals) and any(e["first_k"] is None for e in evals)
    assert "run_public" in (trial.artifact / "agent.py").read_text()  # a code design that filters on public tests
    assert "(code)" in (trial.trajectory / "stdout.txt").read_text()


@pytest.mark.slow
def test_lcb_trial_files_hold_no_hidden_test_and_no_program_echo(job):
    paths, _ = job
    trial = paths.trial("reference")
    problems = json.loads((trial.workspace / "dev_problems.json").read_text())
    assert all(isinstance(p["idx"], str) and p["extra"]["public_test_cases"] for p in problems)
    text = (trial.workspace / "dev_problems.json").read_text()
    assert '"private_tests' not in text and '"reference"' not in text and '"wrong"' not in text
    verification = json.loads(trial.verification.read_text())
    assert verification["case_timeout"] == 10 and verification["predictions_content"] == ""
    assert all(d["pred"] is None and d["tests"] for d in verification["detailed_results"])
