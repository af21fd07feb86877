"""`mac baseline`: baseline artifacts run on arith's test split with the sim model, stored as rows the
leaderboard reads back and compares with."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from mac.cli import app
from mac.config import TaskModelSpec
from mac.report import job_report, read_baselines, run_baselines
from mac.report.baselines import baselines_file
from reportkit import write_trial

NAIVE = '''from mac.sdk import BaseAgent, ModelClient, Prediction


class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        client = ModelClient()
        return [Prediction(p.idx, client.chat([{"role": "user", "content": p.question}])) for p in problems]
'''

NOTHING = '''from mac.sdk import BaseAgent


class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        return []
'''


def test_baseline_rows_from_real_runs_feed_the_leaderboard(tmp_path):
    folders = {}
    for kind, source in (("naive", NOTHING), ("strong", NAIVE)):
        folders[kind] = tmp_path / kind
        folders[kind].mkdir()
        (folders[kind] / "agent.py").write_text(source)
    jobs = tmp_path / "jobs"
    rows = asyncio.run(run_baselines(domain="arith", seeds=2, task_model=TaskModelSpec(), jobs_dir=jobs,
                                     first_k=4, timeout=120, artifacts=folders))
    assert [(r.kind, r.seed) for r in rows] == [("naive", 0), ("naive", 1), ("strong", 0), ("strong", 1)]
    assert all(r.simulated and r.task_model == "sim" and r.total == 4 and r.artifact_sha256 for r in rows)
    assert [r.accuracy for r in rows[:2]] == [0.0, 0.0]  # predicts nothing
    assert all(r.success and r.usage.requests >= 4 for r in rows[2:])
    assert read_baselines(jobs) == rows and baselines_file(jobs, "arith").is_file()

    fingerprint = rows[0].test_seed_fingerprint  # arith's secret test split: rows say which one they measured
    assert fingerprint and all(r.test_seed_fingerprint == fingerprint for r in rows)
    assert all(r.scores == [0, 0, 0, 0] for r in rows[:2])  # per-problem scores, for paired comparisons
    assert all(len(r.scores) == 4 and sum(r.scores) == r.correct for r in rows[2:])

    for seed in range(3):
        write_trial(jobs, "job1", f"t{seed}", test=100.0, total=4, seed=seed, scores=[1, 1, 1, 1],
                    test_seed=fingerprint)
    report, _ = job_report([jobs / "job1"], with_files=False)
    compared = {c.kind: c for c in report.configs[0].baselines}
    assert compared["naive"].score.mean == 0.0 and compared["naive"].verdict == "beats"
    assert compared["naive"].paired and compared["naive"].difference == 100.0
    assert compared["strong"].score.n == 2
    write_trial(jobs, "job2", "t0", test=100.0, total=4, test_seed="0123456789abcdef")  # another install's split
    other, _ = job_report([jobs / "job2"], with_files=False)
    assert other.configs[0].baselines == []


def test_mac_baseline_runs_the_domains_own_baselines(tmp_path):
    result = CliRunner().invoke(app, ["baseline", "--domain", "arith", "--seeds", "1", "--jobs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = read_baselines(tmp_path)
    assert sorted(r.kind for r in rows) == ["naive", "strong"] and all(r.total == 60 and r.success for r in rows)
    assert "SIMULATED" in result.stdout
    by_kind = {r.kind: r.accuracy for r in rows}
    assert by_kind["strong"] >= by_kind["naive"]  # the human-engineered artifact is the stronger one
