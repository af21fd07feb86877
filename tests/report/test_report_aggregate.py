"""The leaderboard from synthetic trial folders written with the store's own models; `mac report` end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mac.cli import app
from mac.records import Usage
from mac.report import job_report
from mac.report.stats import bootstrap_mean
from mac.store import MetaAgentUsage
from reportkit import T0, standard_job, write_baseline, write_trial


def _config(report, meta_agent):
    return next(c for c in report.configs if c.meta_agent == meta_agent)


def test_leaderboard_statistics_and_cheating_exclusion(tmp_path):
    job = standard_job(tmp_path)
    report, views = job_report([job])
    assert len(views) == 6 and report.simulated and report.jobs == ["job1"]
    ref = _config(report, "reference")
    assert (ref.trials, ref.counted, ref.excluded_cheating) == (4, 3, 1)
    assert ref.test.mean == pytest.approx(70.0) and ref.test.std == pytest.approx(10.0)
    # no verification.json here: the bootstrap resamples seeds and problems rebuilt from correct/total, unpaired
    rebuilt = [[1.0] * c + [0.0] * (20 - c) for c in (12, 14, 16)]
    expected = bootstrap_mean(rebuilt, aligned=False)
    assert (ref.test.ci95_low, ref.test.ci95_high) == (expected.low, expected.high)
    assert ref.test.ci95_low < 70.0 < ref.test.ci95_high
    assert (ref.best.trial, ref.best.test_accuracy, ref.worst.trial) == ("ref-2", 80.0, "ref-0")
    assert ref.dev_test_gap.mean == pytest.approx(10.0)
    assert ref.verdicts == {"CLEAN": 3, "SUSPICIOUS": 0, "CHEATING": 1, "unaudited": 0}
    assert ref.usage["total"].requests == 4 * (100 + 50) and ref.usage["verify"].cost_usd == pytest.approx(1.0)
    assert ref.dev_time_frac.mean == pytest.approx(0.5) and ref.dev_quota_frac.mean == pytest.approx(0.05)
    other = _config(report, "other")
    assert (other.trials, other.counted, other.running, other.test.mean, other.test.std) == (2, 1, 1, 40.0, None)
    assert other.verdicts["SUSPICIOUS"] == 1 and other.verdicts["unaudited"] == 1
    assert [c.meta_agent for c in report.configs] == ["reference", "other"]  # best mean first

    included, _ = job_report([job], include_cheating=True, with_files=False)
    ref_all = _config(included, "reference")
    assert ref_all.counted == 4 and ref_all.test.mean == pytest.approx(77.5) and ref_all.best.trial == "ref-cheat"


def test_baseline_rows_are_matched_and_compared(tmp_path):
    job = standard_job(tmp_path)
    write_baseline(tmp_path, kind="naive", seed=0, accuracy=30.0, created_at=T0)
    write_baseline(tmp_path, kind="naive", seed=0, accuracy=40.0, created_at=T0 + 10)  # newer run of seed 0 wins
    write_baseline(tmp_path, kind="naive", seed=1, accuracy=50.0)
    write_baseline(tmp_path, kind="strong", seed=0, accuracy=75.0)
    write_baseline(tmp_path, kind="strong", seed=1, accuracy=71.0)
    write_baseline(tmp_path, kind="strong", seed=2, accuracy=99.0, total=500)  # another test set: not comparable
    write_baseline(tmp_path, kind="strong", seed=3, accuracy=99.0, domain="aime")
    with (tmp_path / "baselines" / "arith.jsonl").open("a") as fh:
        fh.write('{"version": "other", "x": 1}\nnot json\n')
    report, _ = job_report([job], with_files=False)
    ref = {c.kind: c for c in _config(report, "reference").baselines}
    assert ref["naive"].score.mean == pytest.approx(45.0) and ref["naive"].score.n == 2
    assert ref["naive"].verdict == "beats" and ref["naive"].beats  # 3 runs, and the difference's CI is above 0
    assert ref["naive"].difference == pytest.approx(25.0) and ref["naive"].diff_ci95_low > 0
    assert not ref["naive"].paired  # these rows have no per-problem scores
    assert ref["strong"].score.mean == pytest.approx(73.0) and ref["strong"].verdict == "no clear difference"
    other = {c.kind: c for c in _config(report, "other").baselines}
    assert other["naive"].verdict == "not enough runs" and not other["naive"].beats  # one trial


def test_unreadable_and_unstarted_trials_do_not_break_the_report(tmp_path):
    job = standard_job(tmp_path)
    write_trial(tmp_path, "job1", "queued", result=False)
    (job / "ref-0" / "result.json").write_text("{broken")
    report, views = job_report([job], with_files=False)
    queued = next(t for t in report.trials if t.trial == "queued")
    assert queued.status == "running" and queued.test_accuracy is None
    broken = next(t for t in report.trials if t.trial == "ref-0")
    assert broken.status == "failed" and broken.test_accuracy is None and "unreadable" in broken.reason
    assert next(c for c in report.configs if c.meta_agent == "reference").failed == 1
    assert any("ref-0" in p and "result.json" in p for p in report.problems)


def test_mac_report_cli_json_and_table(tmp_path):
    standard_job(tmp_path)
    write_trial(tmp_path, "job2", "real-0", task_model="gpt-test", test=55.0,
                usage=Usage(requests=10, input_tokens=1000, output_tokens=200, cost_usd=1.5, upstream_errors=3))
    runner = CliRunner()
    out = runner.invoke(app, ["report", "job1", "job2", "--jobs-dir", str(tmp_path), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["version"] == "mac-report-1" and data["simulated"] is True and data["jobs"] == ["job1", "job2"]
    real = next(c for c in data["configs"] if c["task_model"] == "gpt-test")
    assert real["simulated"] is False and real["usage"]["total"]["cost_usd"] == pytest.approx(1.5)
    assert real["usage"]["total"]["upstream_errors"] == 3  # counted apart from quota refusals
    failed = runner.invoke(app, ["report", "job2", "--jobs-dir", str(tmp_path)], env={"COLUMNS": "250"})
    assert "(3 failed upstream)" in failed.stdout, failed.output

    html = tmp_path / "out" / "r.html"
    table = runner.invoke(app, ["report", str(tmp_path / "job1"), "--html", str(html)],
                          env={"COLUMNS": "250"})
    assert table.exit_code == 0, table.output
    assert "SIMULATED" in table.stdout and "70.0 ± 10.0" in table.stdout and "excluded" in table.stdout
    assert html.is_file() and "<svg" in html.read_text()

    everything = runner.invoke(app, ["report", str(tmp_path), "--json"])  # a jobs folder: all its jobs
    assert everything.exit_code == 0 and json.loads(everything.stdout)["jobs"] == ["job1", "job2"], everything.output

    missing = runner.invoke(app, ["report", "nope", "--jobs-dir", str(tmp_path)])
    assert missing.exit_code == 2 and "no such job folder" in missing.output


def test_confidence_interval_is_clipped_to_the_accuracy_range(tmp_path):
    write_trial(tmp_path, "j", "a", test=20.0)
    write_trial(tmp_path, "j", "b", test=95.0, seed=1)
    report, _ = job_report([tmp_path / "j"], with_files=False)
    test = report.configs[0].test
    assert test.mean == pytest.approx(57.5) and test.std == pytest.approx(53.033, abs=1e-3)
    assert 0.0 <= test.ci95_low < 57.5 < test.ci95_high <= 100.0  # a bootstrap of accuracies stays in range


def test_meta_agent_model_use_is_summed_per_configuration(tmp_path):
    for seed, cost in ((0, 1.25), (1, None)):
        write_trial(tmp_path, "tools", f"cc-{seed}", meta_agent="claude-code", seed=seed, test=40.0 + seed,
                    meta_usage=MetaAgentUsage(model="m", model_calls=10, input_tokens=50_000, output_tokens=2_000,
                                              cost_usd=cost))
    write_trial(tmp_path, "tools", "ref-0", meta_agent="reference", test=30.0)
    report, _ = job_report([tmp_path / "tools"])
    tool = _config(report, "claude-code").meta_agent_usage
    assert (tool.model_calls, tool.input_tokens, tool.output_tokens, tool.cost_usd) == (20, 100_000, 4_000, 1.25)
    assert _config(report, "reference").meta_agent_usage is None  # built-in: no model of its own

    table = CliRunner().invoke(app, ["report", str(tmp_path / "tools")])
    assert table.exit_code == 0, table.output
    assert "meta-agent's own model" in table.stdout and "100k in / 4000 out, $1.25" in table.stdout


def test_variants_of_a_meta_agent_are_separate_configurations(tmp_path):
    for i, (agent, options, test) in enumerate([("baseline", {"baseline": "naive"}, 40.0),
                                                ("baseline", {"baseline": "strong"}, 70.0),
                                                ("claude-code", {"model": "opus"}, 60.0),
                                                ("claude-code", {"model": "sonnet"}, 50.0)]):
        write_trial(tmp_path, "variants", f"t{i}", meta_agent=agent, options=options, test=test)
    report, _ = job_report([tmp_path / "variants"])
    means = {c.meta_agent: c.test.mean for c in report.configs}
    assert means == {"baseline (naive)": 40.0, "baseline (strong)": 70.0, "claude-code (opus)": 60.0,
                     "claude-code (sonnet)": 50.0}
