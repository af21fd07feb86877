"""Job files, --json, resume with added seeds, `mac jobs`, `mac show`, `mac clean`, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mac.paths import scratch_home
from mac.store import JobPaths, TrialResult
from mac.trial.job import job_lock

MAC = [sys.executable, "-c", "from mac.cli import app; app()"]

JOB_TOML = """
domain = "arith"
meta_agent = "baseline"
jobs_dir = "jobs"

[budget]
preset = "smoke"
dev_time = 5
"""


def mac(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([*MAC, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def test_a_job_file_runs_resumes_with_more_seeds_and_is_listed_and_shown(tmp_path):
    (tmp_path / "job.toml").write_text(JOB_TOML)
    first = mac("run", "-c", "job.toml", "-c", "seeds=2", "--job", "jf", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    report = json.loads(first.stdout)  # stdout is the JSON alone; progress goes to stderr
    assert [t["trial"] for t in report["trials"]] == ["arith-baseline-naive-s0", "arith-baseline-naive-s1"]
    assert report["simulated"] and report["spec"]["budget"]["dev_time"] == 5
    assert "budget per trial: development 5s" in first.stderr  # no TTY: the budget in use is printed first
    job = JobPaths(tmp_path / "jobs", "jf")
    before = {t: (job.dir / t / "result.json").read_bytes() for t in ("arith-baseline-naive-s0",
                                                                       "arith-baseline-naive-s1")}

    conflict = mac("run", "--resume", "jf", "--jobs-dir", "jobs", "--dev-time", "9", "-c", "seeds=4", cwd=tmp_path)
    assert conflict.returncode == 2 and "drop -c seeds=4, --dev-time" in conflict.stderr, conflict.stderr

    more = mac("run", "--resume", "jf", "--jobs-dir", "jobs", "--seeds", "3", "--json", cwd=tmp_path)
    assert more.returncode == 0, more.stdout + more.stderr
    trials = json.loads(more.stdout)["trials"]
    assert [t["seed"] for t in trials] == [0, 1, 2] and all(t["status"] == "completed" for t in trials)
    assert trials[2]["resumed"] == [] and trials[2]["budget_use"]["dev_time_limit_sec"] == 5
    for trial, content in before.items():  # finished trials are kept byte for byte
        assert (job.dir / trial / "result.json").read_bytes() == content
    stored = json.loads(job.job_json.read_text())
    assert stored["spec"]["seeds"] == 3 and len(stored["trials"]) == 3

    listed = mac("jobs", "--jobs-dir", "jobs", "--json", cwd=tmp_path)
    [row] = json.loads(listed.stdout)
    scores = [t["test"]["accuracy"] for t in trials]
    assert (row["job"], row["status"], row["trials"], row["domains"], row["meta_agents"]) == \
        ("jf", "completed", 3, ["arith"], ["baseline"])
    assert abs(row["mean_test"] - sum(scores) / 3) < 0.01 and row["simulated"]
    table = mac("jobs", "--jobs-dir", "jobs", cwd=tmp_path)
    assert "jf" in table.stdout and "completed" in table.stdout

    shown = json.loads(mac("show", "jf", "--jobs-dir", "jobs", "--json", cwd=tmp_path).stdout)
    assert shown["spec"]["domain"] == "arith" and len(shown["trials"]) == 3
    one = mac("show", "jf/arith-baseline-naive-s1", "--jobs-dir", "jobs", cwd=tmp_path)
    assert one.returncode == 0 and "completed" in one.stdout and "verify" in one.stdout, one.stderr
    missing = mac("show", "jf/nope", "--jobs-dir", "jobs", cwd=tmp_path)
    assert missing.returncode == 2 and "arith-baseline-naive-s2" in missing.stderr

    again = mac("verify", str(job.dir / "arith-baseline-naive-s0"), "--json", cwd=tmp_path)
    assert again.returncode == 0 and "reverify" in json.loads(again.stdout)["timings"], again.stderr


def test_clean_recovers_and_removes_abandoned_scratch_but_never_a_running_jobs(tmp_path):
    jobs = tmp_path / "jobs"
    done = mac("run", "--domain", "arith", "--meta-agent", "baseline", "--budget", "smoke", "--seeds", "2",
               "--jobs-dir", str(jobs), "--job", "abandoned", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    job = JobPaths(jobs, "abandoned")
    scratches = {}
    for trial in ("arith-baseline-naive-s0", "arith-baseline-naive-s1"):
        # what a controller killed during development leaves: the live workspace in its scratch folder
        scratch = scratch_home() / f"trial-{trial}-cleantest{os.getpid()}"
        (scratch / "workspace").mkdir(parents=True)
        (scratch / "workspace" / "agent.py").write_text("# the live workspace\n")
        path = job.dir / trial / "result.json"
        result = TrialResult.load(path)
        result.status, result.scratch = "interrupted", str(scratch)
        result.live_workspace = str(scratch / "workspace")
        result.timings["develop"].finished_at = None
        for phase in ("freeze", "verify", "audit"):
            result.timings.pop(phase, None)
        result.test = result.artifact_sha256 = None
        path.write_text(result.model_dump_json())
        scratches[trial] = scratch

    listed = json.loads(mac("clean", "--jobs-dir", str(jobs), "--dry-run", "--json", cwd=tmp_path).stdout)
    assert sorted(c["scratch"] for c in listed) == sorted(map(str, scratches.values()))
    assert all(s.is_dir() for s in scratches.values())
    with job_lock(job):  # a controller runs the job: nothing of it is touched
        busy = json.loads(mac("clean", "--jobs-dir", str(jobs), "--json", cwd=tmp_path).stdout)
    assert busy == [] and all(s.is_dir() for s in scratches.values())

    cleaned = mac("clean", "--jobs-dir", str(jobs), cwd=tmp_path)
    assert cleaned.returncode == 0 and "2 scratch folder(s)" in cleaned.stdout, cleaned.stdout + cleaned.stderr
    assert not any(s.exists() for s in scratches.values())
    for trial in scratches:  # the live workspace was copied back first, so a resume continues from it
        assert (job.dir / trial / "workspace" / "agent.py").read_text() == "# the live workspace\n"


def test_help_shows_flags_without_a_bool_type_and_lists_the_new_commands(tmp_path):
    for args in (["--help"], ["run", "--help"], ["eval", "--help"], ["jobs", "--help"], ["data", "list", "--help"]):
        done = mac(*args, cwd=tmp_path, timeout=60)
        assert done.returncode == 0 and "<bool>" not in done.stdout, (args, done.stdout)
    top = mac("--help", cwd=tmp_path, timeout=60).stdout
    assert all(name in top for name in ("jobs", "show", "clean"))
    data = json.loads(mac("data", "list", "--json", cwd=tmp_path, timeout=60).stdout)
    arith = next(d for d in data if d["domain"] == "arith")
    assert arith["source"] == "generated" and arith["counts"] == {"dev": 60, "test": 60}
    attacks = json.loads(mac("redteam", "--list", "--json", cwd=tmp_path, timeout=60).stdout)
    assert {"attack": "read-ground-truth", "layer": "sandbox"}.items() <= attacks[0].items()


def test_prices_make_the_cost_cap_usable_from_the_cli(tmp_path):
    unpriced = mac("run", "--domain", "arith", "--verify-cost", "0.05", "--jobs-dir", "jobs", cwd=tmp_path, timeout=60)
    assert unpriced.returncode == 2 and "--price-input" in unpriced.stderr  # a cap that meters nothing is refused
    done = mac("run", "--domain", "arith", "--meta-agent", "baseline", "--budget", "smoke", "--price-input", "100",
               "--price-output", "100", "--verify-cost", "0.05", "--jobs-dir", "jobs", "--job", "cost", "--json",
               cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr  # the cap left problems unanswered: a partial failure
    [trial] = json.loads(done.stdout)["trials"]
    assert trial["reason"].startswith("partial:")
    used = trial["budget_use"]["verify_usage"]
    assert trial["budget_use"]["verify_quota"]["cost_usd"] == 0.05
    assert used["refused"] > 0 and used["requests"] < 60  # the cap stopped the spending (60 problems, 1 call each)
