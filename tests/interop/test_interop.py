"""Harbor and Inspect AI run tiny tasks on MAC's bwrap environments to a reward / score of 1.

They need Python >= 3.12 (Harbor's floor) and build a venv with harbor, inspect-ai and this checkout once (PyPI,
cached). Without such an interpreter they are reported as skipped with the reason, never as passed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "environments"))
from envkit import make_task, small_image  # noqa: E402
from py312 import find_python312, interop_venv  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def venv() -> Path:
    python = find_python312()
    if python is None:
        pytest.skip("NOT RUN: no Python >= 3.12 found (set MAC_PY312=/path/to/python3.12, or put python3.12 on PATH)")
    folder, why = interop_venv(python)
    if folder is None:
        pytest.skip(f"NOT RUN: could not build the interop venv with {python}: {why}")
    return folder


def _env(box: Path) -> dict[str, str]:
    return {**os.environ, "MAC_ENV_CACHE": str(box / "cache"), "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "MAC_INSPECT_HOST_RUNTIME": "1"}


def test_harbor_runs_a_task_on_the_bwrap_environment(venv, box):
    task = make_task(box / "hello", small_image(box / "image"))
    done = subprocess.run([str(venv / "bin" / "harbor"), "run", "-p", str(task), "-a", "oracle",
                           "-e", "mac.interop.harbor:BwrapEnvironment", "--ek", "host_runtime=true",
                           "-o", str(box / "jobs"), "-y", "-n", "1"],
                          capture_output=True, text=True, timeout=600, env=_env(box), cwd=box)
    results = list((box / "jobs").glob("*/hello__*/result.json"))
    assert results, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(results[0].read_text())
    assert result["exception_info"] is None, result["exception_info"]
    assert result["verifier_result"]["rewards"] == {"reward": 1.0}


def test_inspect_scores_a_sample_in_the_mac_sandbox(venv, box):
    image = small_image(box / "image")
    done = subprocess.run([str(venv / "bin" / "python"), str(Path(__file__).with_name("inspect_tiny_task.py")),
                           str(image), str(box / "logs")], capture_output=True, text=True, timeout=600,
                          env=_env(box), cwd=box)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout[-3000:] + done.stderr[-3000:]
    assert json.loads(lines[-1]) == {"status": "success", "accuracy": 1.0, "error": None}
