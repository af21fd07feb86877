"""`mac eval` as a user runs it: a subprocess, real sandbox, real gateway with the sim, a data folder of our own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from runkit import BACKEND, SIM_AGENT, write_artifact

SANDBOX_FLAGS = ["--unsafe-no-sandbox"] if BACKEND == "none" else []


def mac(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from mac.cli import app; app(prog_name='mac')", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def artifact(tmp_path):
    return write_artifact(tmp_path / "artifact", SIM_AGENT)


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    rows = [{"id": f"q{i}", "question": f"Tom has {i + 2} apples and buys {i + 5} more. How many apples now?",
             "answer": str(2 * i + 7)} for i in range(3)]
    for split in ("dev", "test"):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_json_output_on_generated_arith(artifact):
    proc = mac("eval", "--domain", "arith", "--split", "dev", "--artifact", str(artifact), "--task-model", "sim",
               "--first-k", "3", "--timeout", "60", "--json", *SANDBOX_FLAGS)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"success", "accuracy", "correct", "total", "missing_predictions", "partial", "timed_out", "usage",
            "simulated"} <= set(out)
    assert out["success"] and out["total"] == 3 and out["simulated"] is True
    assert out["usage"]["requests"] == 3 and out["usage"]["input_tokens"] > 0 and out["usage"]["output_tokens"] > 0


def test_json_output_on_a_data_folder(artifact, data_dir):
    proc = mac("eval", "--domain", "arith", "--data", str(data_dir), "--split", "dev", "--artifact", str(artifact),
               "--task-model", "sim", "--json", "--timeout", "60", *SANDBOX_FLAGS)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["total"] == 3 and out["missing_predictions"] == [] and not out["partial"] and not out["timed_out"]


def test_zero_accuracy_still_exits_zero_and_prints_a_table(tmp_path, data_dir):
    wrong = write_artifact(tmp_path / "wrong", """
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            return [Prediction(p.idx, "999999") for p in problems]
    """)
    proc = mac("eval", "--domain", "arith", "--data", str(data_dir), "--split", "dev", "--artifact", str(wrong),
               "--timeout", "60", *SANDBOX_FLAGS)
    assert proc.returncode == 0, proc.stderr  # wrong answers are a score, not a failure
    assert "0.0%" in proc.stdout and "(0/3 correct)" in proc.stdout
    assert "SIMULATED" in proc.stdout


def test_missing_predictions_exit_one_with_the_table(tmp_path, data_dir):
    partial = write_artifact(tmp_path / "partial", """
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            return [Prediction(p.idx, "999999") for p in problems[1:]]
    """)
    proc = mac("eval", "--domain", "arith", "--data", str(data_dir), "--split", "dev", "--artifact", str(partial),
               "--timeout", "60", *SANDBOX_FLAGS)
    assert proc.returncode == 1, proc.stderr  # a partial failure of the artifact
    assert "missing predictions" in proc.stdout and "(idx 0)" in proc.stdout
    assert "failed: 1 missing predictions" in proc.stderr


@pytest.mark.parametrize("domain, split, extra, message", [
    ("arith", "train", [], "unknown split 'train'"),
    ("arith", "dev", ["--task-model", "gpt4"], "unknown task model"),
    ("nope", "dev", [], "unknown domain 'nope'"),
    ("arith", "test", ["--unsafe-no-sandbox"], "refused for the test split"),
])
def test_usage_errors_exit_non_zero(artifact, domain, split, extra, message):
    proc = mac("eval", "--domain", domain, "--split", split, "--artifact", str(artifact), *extra)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr


def test_missing_artifact_is_a_usage_error(tmp_path):
    proc = mac("eval", "--domain", "arith", "--split", "dev", "--artifact", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "not found" in proc.stderr


def test_unsafe_flag_warns_loudly(artifact):
    proc = mac("eval", "--domain", "arith", "--split", "dev", "--artifact", str(artifact), "--first-k", "1",
               "--json", "--unsafe-no-sandbox")
    assert proc.returncode == 0, proc.stderr
    assert "WITHOUT ANY ISOLATION" in proc.stderr
    assert json.loads(proc.stdout)["total"] == 1
