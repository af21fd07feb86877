"""Honest statistics and honest failures in the report: bootstrap intervals over seeds and test problems,
"beats" only with enough runs, paired comparisons with baselines, infrastructure errors and unreadable trial
folders shown but never counted (issue 12, items 1, 2 and 4)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from typer.testing import CliRunner

from mac.cli import app
from mac.report import job_report
from mac.report.compare import METHOD
from mac.report.server import serve
from mac.report.stats import bootstrap_difference, bootstrap_mean
from mac.store import JobPaths, TrialResult
from reportkit import write_baseline, write_trial

N = 60


def _scores(correct: int, n: int = N, offset: int = 0) -> list[int]:
    """`correct` ones among n problems, starting at `offset` (wrapping), so runs differ problem by problem."""
    return [1 if (i - offset) % n < correct else 0 for i in range(n)]


def _ref(report):
    return next(c for c in report.configs if c.meta_agent == "reference")


def test_two_seeds_at_75_get_an_honest_interval_and_no_beats_claim(tmp_path):
    """The defect: two seeds both at 75.0 printed `75.0 ± 0.0 [75.0, 75.0]` and "beats (CI)"."""
    for seed in range(2):
        write_trial(tmp_path, "job", f"ref-{seed}", seed=seed, scores=_scores(45, offset=seed))
    for seed in range(3):
        write_baseline(tmp_path, kind="naive", seed=seed, scores=_scores(30, offset=seed))
    report, _ = job_report([tmp_path / "job"], with_files=False)
    ref = _ref(report)
    assert (ref.test.mean, ref.test.std) == (75.0, 0.0)
    # 60 questions: the test set's own noise is several points, even with two identical seeds
    assert ref.test.ci95_low < 70.0 and ref.test.ci95_high > 80.0
    [naive] = ref.baselines
    assert naive.difference == pytest.approx(25.0) and naive.paired and naive.diff_ci95_low > 0
    assert naive.verdict == "not enough runs" and not naive.beats  # the interval says so, but n = 2 < 3

    table = CliRunner().invoke(app, ["report", str(tmp_path / "job")], env={"COLUMNS": "250"})
    assert table.exit_code == 0, table.output
    assert "not enough runs" in table.stdout and "beats" not in table.stdout.replace('"beats" needs', "")
    assert "[75.0, 75.0]" not in table.stdout and "Method: test: mean ± std over seeds" in table.stdout
    data = json.loads(CliRunner().invoke(app, ["report", str(tmp_path / "job"), "--json"]).stdout)
    assert data["method"] == METHOD and data["configs"][0]["baselines"][0]["verdict"] == "not enough runs"


def test_three_seeds_clearly_above_a_baseline_beat_it_and_equal_ones_do_not(tmp_path):
    for seed in range(3):
        write_trial(tmp_path, "job", f"ref-{seed}", seed=seed, scores=_scores(48, offset=seed))
        write_trial(tmp_path, "job", f"same-{seed}", meta_agent="same", seed=seed, scores=_scores(30, offset=seed))
        write_baseline(tmp_path, kind="naive", seed=seed, scores=_scores(30, offset=seed))
    report, _ = job_report([tmp_path / "job"], with_files=False)
    [beaten] = _ref(report).baselines
    assert beaten.verdict == "beats" and beaten.beats and beaten.paired and beaten.diff_ci95_low > 0
    [tied] = next(c for c in report.configs if c.meta_agent == "same").baselines
    assert tied.verdict == "no clear difference" and tied.diff_ci95_low <= 0 <= tied.diff_ci95_high
    html = (tmp_path / "r.html")
    assert CliRunner().invoke(app, ["report", str(tmp_path / "job"), "--html", str(html)]).exit_code == 0
    page = html.read_text()
    assert "Method: test: mean ± std over seeds" in page and "paired on the same problems" in page


def test_pairing_on_the_same_problems_removes_the_test_sets_noise():
    base = [_scores(30) for _ in range(3)]
    better = [[1 if b or i % 10 == 0 else 0 for i, b in enumerate(row)] for row in base]  # 3 problems more
    paired, was_paired = bootstrap_difference(better, base)
    unpaired, not_paired = bootstrap_difference(better, base, aligned=False)
    assert was_paired and not not_paired
    assert paired.value == pytest.approx(5.0) and unpaired.value == pytest.approx(5.0)
    # paired, only the problems where the two differ move the difference; unpaired, all 60 do on each side
    assert paired.low >= 0 > unpaired.low
    assert paired.high - paired.low < 0.75 * (unpaired.high - unpaired.low)
    # deterministic for the fixed bootstrap seed, different for another
    assert bootstrap_mean(base) == bootstrap_mean(base) != bootstrap_mean(base, seed=1)


def test_infrastructure_errors_keep_their_score_but_never_count(tmp_path):
    for seed, correct in enumerate((36, 42, 48)):
        write_trial(tmp_path, "job", f"ref-{seed}", seed=seed, scores=_scores(correct, offset=seed))
    write_trial(tmp_path, "job", "ref-3", seed=3, scores=[0] * N, status="infrastructure_error",
                reason="infrastructure: 60 of 60 task-model calls failed upstream in verify (100% > 20%)")
    report, _ = job_report([tmp_path / "job"], with_files=False)
    ref = _ref(report)
    assert (ref.trials, ref.counted, ref.infrastructure_errors, ref.failed) == (4, 3, 1, 0)
    assert ref.test.mean == pytest.approx(70.0) and ref.worst.test_accuracy == 60.0  # the 0 is not a real zero
    shown = next(t for t in report.trials if t.trial == "ref-3")
    assert shown.test_accuracy == 0.0 and not shown.counted and shown.status == "infrastructure_error"
    table = CliRunner().invoke(app, ["report", str(tmp_path / "job")], env={"COLUMNS": "250"})
    assert "1 infrastructure error" in table.stdout, table.stdout


def _null_budget_trial(jobs, job: str, trial: str) -> None:
    """A trial folder as an older MAC wrote it for `--dev-time inf`: the budget saved as null."""
    write_trial(jobs, job, trial, test=50.0)
    paths = JobPaths(jobs, job).trial(trial)
    config = json.loads(paths.config.read_text())
    config["budget"]["dev_time_sec"] = None
    paths.config.write_text(json.dumps(config))
    result = json.loads(paths.result.read_text())
    result["budget_use"]["dev_time_limit_sec"] = None
    paths.result.write_text(json.dumps(result))


def test_unreadable_and_partial_trial_folders_are_listed_with_the_reason(tmp_path):
    write_trial(tmp_path, "job", "good-0", test=80.0)
    _null_budget_trial(tmp_path, "job", "old-0")
    (tmp_path / "job" / "half-0" / "workspace").mkdir(parents=True)  # a trial cut before its config.json
    report, views = job_report([tmp_path / "job"], with_files=False)
    assert [v.result.trial for v in views] == ["good-0"]
    old = next(p for p in report.problems if "old-0" in p)
    assert "dev_time_sec" in old and "infinite or NaN budget" in old
    assert any("half-0" in p and "not a trial folder" in p for p in report.problems)

    table = CliRunner().invoke(app, ["report", str(tmp_path / "job")], env={"COLUMNS": "250"})
    assert table.exit_code == 0 and "unreadable: job/old-0" in table.stdout, table.output

    async def view() -> str:
        runner, port = await serve(tmp_path, port=0)
        try:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/job/job") as resp:
                    assert resp.status == 200
                    page = await resp.text()
                async with session.get(f"http://127.0.0.1:{port}/") as resp:
                    index = await resp.text()
        finally:
            await runner.cleanup()
        assert "2 unreadable" in index
        return page

    page = asyncio.run(view())
    assert "old-0" in page and "half-0" in page and "not a trial folder" in page


def test_an_old_folder_with_a_null_budget_gets_a_clear_message_not_a_traceback(tmp_path):
    _null_budget_trial(tmp_path, "job", "old-0")
    (tmp_path / "job" / "job.json").write_text(json.dumps({"job": "job", "trials": [
        json.loads((tmp_path / "job" / "old-0" / "config.json").read_text())]}))
    runner = CliRunner()
    verify = runner.invoke(app, ["verify", str(tmp_path / "job" / "old-0")])
    resume = runner.invoke(app, ["run", "--resume", str(tmp_path / "job")])
    for out in (verify, resume):
        assert out.exit_code == 2, out.output
        assert "budget.dev_time_sec" in out.output and "infinite or NaN budget" in out.output, out.output
        assert "Traceback" not in out.output and "pydantic" not in out.output
    with pytest.raises(ValueError, match="dev_time_limit_sec"):  # a StoreError is a ValueError too
        TrialResult.load(tmp_path / "job" / "old-0" / "result.json")


def test_a_job_of_only_unreadable_trials_says_why(tmp_path):
    _null_budget_trial(tmp_path, "job", "old-0")
    out = CliRunner().invoke(app, ["report", str(tmp_path / "job")])
    assert out.exit_code == 2 and "no readable trials" in out.output, out.output
    assert "old-0" in out.output and "infinite or NaN budget" in out.output.replace("\n", " ")
