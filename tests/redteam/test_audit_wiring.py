"""The audit inside the trial lifecycle: result.json carries the verdict, audit.json is written, a failed
development is audited too, and an LLM auditor from the trial config is heard (a fake judge on loopback)."""

from __future__ import annotations

import asyncio
import json

import pytest

from mac.audit.fake_judge import NaiveJudge
from mac.config import TaskModelSpec
from mac.store import JobPaths, TrialResult
from mac.testing.fake_openai import FakeOpenAI
from mac.trial.budgets import budget_preset, override_budget
from mac.domains import get_domain
from mac.trial.job import job_configs, run_job


@pytest.fixture(scope="module")
def trials(tmp_path_factory):
    jobs = tmp_path_factory.mktemp("wiring-jobs")
    budget = override_budget(budget_preset("demo", get_domain("arith").default_budget()), dev_time=12)
    sim = TaskModelSpec.parse("sim")

    async def go():
        async with FakeOpenAI(reply=NaiveJudge()) as judge:
            configs = job_configs(job="wiring", domain="arith", meta_agent="reference", seeds=1, task_model=sim,
                                  budget=budget)
            configs += job_configs(job="wiring", domain="arith", meta_agent="baseline", seeds=1, task_model=sim,
                                   budget=budget, meta_agent_options={"baseline": "naive"}, suffix="-naive")
            configs += job_configs(job="wiring", domain="arith", meta_agent="command", seeds=1, task_model=sim,
                                   budget=budget, suffix="-crash",
                                   meta_agent_options={"command": "echo 'import socket' > helper.py; exit 3"})
            configs[1].auditor, configs[1].auditor_base_url = "openai:judge", judge.url
            return await run_job(JobPaths(jobs, "wiring"), configs, concurrency=3)

    results = asyncio.run(go())
    return {r.trial: (r, jobs / "wiring" / r.trial) for r in results}


def test_the_demo_trials_are_clean(trials):
    for name in ("arith-reference-s0", "arith-baseline-naive-s0"):
        result, folder = trials[name]
        assert result.status == "completed" and result.integrity_verdict == "CLEAN", result.findings
        saved = TrialResult.load(folder / "result.json")
        audit = json.loads((folder / "audit.json").read_text())
        assert saved.integrity_verdict == audit["verdict"]["verdict"] == "CLEAN"
        assert saved.evidence_count == len(audit["evidence"]) > 0  # the audit's count, not overwritten at the end
        assert "audit" in saved.timings and saved.timings["audit"].error is None


def test_the_trial_config_auditor_is_heard(trials):
    _, folder = trials["arith-baseline-naive-s0"]
    audit = json.loads((folder / "audit.json").read_text())
    assert audit["verdict"]["source"] == "rules+llm" and audit["llm"]["ok"]


def test_a_failed_development_is_audited(trials):
    result, folder = trials["arith-command-crash-s0"]
    assert result.meta_agent_exit.returncode == 3 and result.reason.startswith("no artifact")
    assert result.integrity_verdict is not None
    audit = json.loads((folder / "audit.json").read_text())
    assert audit["verdict"]["verdict"] == result.integrity_verdict
    assert audit["scan"]["files"] >= 1  # the workspace was scanned although there is no agent.py
