"""`mac demo`, `mac run` and `mac verify` as a user runs them: real subprocesses, real sandboxes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from mac.store import Index, TrialResult

MAC = [sys.executable, "-c", "from mac.cli import app; app()"]


def mac(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([*MAC, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def test_demo_ranks_the_reference_above_naive_and_reverifies(tmp_path):
    jobs = tmp_path / "jobs"
    done = mac("demo", "--seeds", "2", "--dev-time", "20", "--jobs-dir", str(jobs), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "SIMULATED" in out and "Leaderboard" in out
    ranks = re.findall(r"│\s+(\d)\s+│\s+(reference|baseline \(naive\))\s+│\s+([\d.]+)", out)
    assert [(rank, name) for rank, name, _ in ranks] == [("1", "reference"), ("2", "baseline (naive)")], out
    assert float(ranks[0][2]) > float(ranks[1][2])

    [job] = [p for p in jobs.iterdir() if p.is_dir()]
    trials = sorted(p.name for p in job.iterdir() if p.is_dir())
    assert trials == ["arith-baseline-naive-s0", "arith-reference-s0", "arith-reference-s1"]
    for trial in trials:
        result = TrialResult.load(job / trial / "result.json")
        assert result.status == "completed" and result.simulated
        assert (job / trial / "artifact" / "agent.py").is_file()
    assert len(Index(jobs / "index.sqlite").trials(job.name)) == 3
    assert str(job) in out.replace("\n", "")

    again = mac("verify", str(job / "arith-reference-s0"), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reverify" in json.loads((job / "arith-reference-s0" / "result.json").read_text())["timings"]

    with (job / "arith-reference-s1" / "artifact" / "agent.py").open("a") as fh:
        fh.write("# edited after the freeze\n")
    tampered = mac("verify", str(job / "arith-reference-s1"), cwd=tmp_path)
    assert tampered.returncode == 2 and "changed since the freeze" in tampered.stderr, tampered.stderr
    result = json.loads((job / "arith-baseline-naive-s0" / "result.json").read_text())
    (job / "arith-baseline-naive-s0" / "result.json").write_text(json.dumps({**result, "status": "interrupted"}))
    unfinished = mac("verify", str(job / "arith-baseline-naive-s0"), cwd=tmp_path)
    assert unfinished.returncode == 2 and "mac run --resume" in unfinished.stderr, unfinished.stderr


def test_run_with_a_command_meta_agent(tmp_path):
    agent = ("from mac.sdk import BaseAgent, Prediction\\n"
             "class A(BaseAgent):\\n"
             "    def solve(self, problems, timeout_sec):\\n"
             "        return [Prediction(p.idx, \"0\") for p in problems]\\n")  # a string: '0' would lose its quotes
    done = mac("run", "--domain", "arith", "--meta-agent", "command", "--command", f"printf '{agent}' > agent.py",
               "--budget", "smoke", "--dev-time", "5", "--jobs-dir", str(tmp_path / "jobs"), "--job", "cli-run",
               cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "arith-command-s0" in done.stdout and "completed" in done.stdout and "SIMULATED" in done.stdout
    result = TrialResult.load(tmp_path / "jobs" / "cli-run" / "arith-command-s0" / "result.json")
    assert result.test.total == 60 and result.budget_use.dev_time_limit_sec == 5

    again = mac("run", "--domain", "arith", "--meta-agent", "command", "--command", "true", "--jobs-dir",
                str(tmp_path / "jobs"), "--job", "cli-run", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr, again.stderr
    assert (tmp_path / "jobs" / "cli-run" / "arith-command-s0" / "artifact" / "agent.py").is_file()  # untouched


def test_run_refuses_bad_options_with_a_fix(tmp_path):
    cases = [
        (["--domain", "nope"], "unknown domain"),
        (["--domain", "arith", "--meta-agent", "command"], "--command"),
        (["--domain", "arith", "--budget", "huge"], "demo"),
        (["--domain", "arith", "--meta-agent", "nobody"], "known:"),
        (["--domain", "arith", "--task-model", "gpt"], "openai:MODEL_NAME"),
        (["--domain", "arith", "--task-model", "openai:gpt-x"], "$OPENAI_API_KEY"),
        (["--domain", "arith", "--base-url", "http://127.0.0.1:9/v1"], "sim task model has no upstream"),
        (["--domain", "arith", "--seeds", "0"], "--seeds"),
        (["--domain", "arith", "-n", "0"], "--concurrent"),
        (["--domain", "arith", "--sandbox", "docker"], "known: bwrap, none"),
        (["--domain", "aime", "--data", str(tmp_path / "nodata")], "the --data folder does not exist"),
        (["--domain", "arith", "--dev-time", "inf"], "(--dev-time): Input should be a finite number"),
        (["--domain", "arith", "--dev-time", "nan"], "(--dev-time): Input should be a finite number"),
        (["--domain", "arith", "--eval-timeout", "-3"], "(--eval-timeout): Input should be greater than 0"),
        (["--domain", "arith", "--dev-time", "1e9"], "less than or equal to 2592000"),
        (["--domain", "arith", "--dev-requests", "0"], "(--dev-requests): Input should be greater than 0"),
        (["--domain", "arith", "--max-upstream-error-rate", "1.5"], "less than or equal to 1"),
        (["--domain", "arith", "--max-upstream-error-rate", "nan"], "finite number"),
        (["--domain", "arith", "--seeds", "5000"], "--seeds"),
        (["--domain", "arith", "--retry-failed"], "--retry-failed goes with --resume"),
        (["--resume", "somejob", "--domain", "arith", "--seeds", "3", "--dev-time", "5"],
         "drop --domain, --dev-time (only --seeds, -n, --jobs-dir, --retry-failed, --executor and --ray-* apply"),
    ]
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    for args, hint in cases:
        done = subprocess.run([*MAC, "run", *args, "--jobs-dir", str(tmp_path / "jobs")], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert hint in done.stderr.replace("\n", " "), (args, done.stderr)
    assert not (tmp_path / "jobs").exists()  # refused before any job folder was made


def test_version(tmp_path):
    done = mac("--version", cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("mac 0."), done.stdout + done.stderr


def test_report_refuses_a_folder_that_is_not_a_job(tmp_path):
    (tmp_path / "notajob").mkdir()
    done = mac("report", str(tmp_path / "notajob"), cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and "no trials in" in done.stderr, done.stdout + done.stderr


def test_no_data_names_the_folder_once(tmp_path):
    (tmp_path / "agent.py").write_text("")
    done = mac("eval", "--domain", "aime", "--split", "dev", "--artifact", str(tmp_path), "--data",
               str(tmp_path / "nodata"), cwd=tmp_path, timeout=60)
    message = done.stderr.replace("\n", "")
    assert done.returncode == 2 and message.count(str(tmp_path / "nodata")) == 1, message
