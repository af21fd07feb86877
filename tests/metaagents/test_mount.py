"""`--meta-agent command --mount DIR`: a user's own script, read-only at the same path in the sandbox."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

MAC = [sys.executable, "-c", "from mac.cli import app; app()"]

BUILD = '''
import pathlib, sys
here = pathlib.Path(__file__).resolve().parent
try:
    (here / "written-from-the-sandbox").write_text("x")
    mode = "writable"
except OSError:
    mode = "read-only"
pathlib.Path("mount-mode.txt").write_text(mode)
pathlib.Path("agent.py").write_text(
    "from mac.sdk import BaseAgent, Prediction\\n"
    "class A(BaseAgent):\\n"
    "    def solve(self, problems, timeout_sec):\\n"
    "        return [Prediction(p.idx, '0') for p in problems]\\n"
    "# built by " + str(here) + "\\n")
'''


@pytest.fixture
def tools() -> Path:
    """A user's folder of scripts. Not under /tmp: that is the sandbox's own private tmpfs."""
    folder = Path(tempfile.mkdtemp(prefix="mac-mount-test-", dir="/var/tmp"))
    folder.chmod(0o755)
    (folder / "build.py").write_text(BUILD)
    (folder / "build.py").chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def mac(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*MAC, *args], cwd=cwd, capture_output=True, text=True, timeout=240)


def test_a_script_in_a_mounted_folder_builds_the_artifact_and_cannot_write_there(tools, tmp_path):
    done = mac("run", "--domain", "arith", "--meta-agent", "command", "--command", f"python {tools}/build.py",
               "--mount", str(tools), "--budget", "smoke", "--dev-time", "8", "--jobs-dir", str(tmp_path / "jobs"),
               "--job", "mounted", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    [trial] = json.loads(done.stdout)["trials"]
    assert trial["status"] == "completed" and trial["meta_agent_options"]["mounts"] == [str(tools)]
    folder = tmp_path / "jobs" / "mounted" / trial["trial"]
    assert f"# built by {tools}" in (folder / "artifact" / "agent.py").read_text()
    assert (folder / "workspace" / "mount-mode.txt").read_text() == "read-only"
    assert not (tools / "written-from-the-sandbox").exists()


def test_mounts_that_could_expose_answers_or_cannot_work_are_refused(tools, tmp_path):
    jobs, data, under_tmp = tmp_path / "jobs", tmp_path / "data", tmp_path / "scripts"
    for folder in (jobs, data, under_tmp):
        folder.mkdir()
    cases = [
        (["--mount", str(jobs)], "overlaps"),                            # other trials' results
        (["--mount", str(tmp_path), "--data", str(data)], "overlaps"),   # holds the domain's data folder
        (["--mount", str(tools / "missing")], "no such folder"),
        (["--mount", "/usr/share"], "reserved by the sandbox"),
        (["--mount", str(under_tmp)], "reserved by the sandbox"),        # /tmp is the sandbox's own tmpfs
    ]
    for extra, hint in cases:
        done = mac("run", "--domain", "arith", "--meta-agent", "command", "--command", "true", *extra,
                   "--jobs-dir", str(jobs), cwd=tmp_path)
        assert done.returncode == 2 and hint in done.stderr.replace("\n", " "), (extra, done.stderr)
    other = mac("run", "--domain", "arith", "--mount", str(tools), "--jobs-dir", str(jobs), cwd=tmp_path)
    assert other.returncode == 2 and "does not take the option(s) mounts" in other.stderr
    assert list(jobs.iterdir()) == []  # refused before any job folder
    assert os.listdir(tools) == ["build.py"]
