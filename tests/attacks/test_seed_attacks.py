"""Red-team attacks on arith's secret test seed: reaching the seed file through a folder mounted into the
meta-agent's sandbox. Without root, sandboxes run as the controller's own user, so a mounted 0600 seed file
would be readable there; the mount is refused before any job folder exists."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from mac.domains.testseed import open_seed
from mac.errors import ConfigError
from mac.metaagents.command import check_mounts

MAC = [sys.executable, "-c", "from mac.cli import app; app()"]


@pytest.fixture
def tools() -> Path:
    """A user's folder of scripts (not under /tmp, the sandbox's own tmpfs)."""
    folder = Path(tempfile.mkdtemp(prefix="mac-seed-attack-", dir="/var/tmp"))
    folder.chmod(0o755)
    (folder / "build.py").write_text("print('building')\n")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_mount_that_holds_the_pinned_test_seed_is_refused(tools, tmp_path):
    seed = open_seed(tools / "arith.seed")  # the user keeps the pinned seed next to their scripts
    jobs = tmp_path / "jobs"
    done = subprocess.run([*MAC, "run", "--domain", "arith", "--meta-agent", "command", "--command", "true",
                           "--mount", str(tools), "--test-seed-file", str(seed.path), "--jobs-dir", str(jobs)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 2 and "overlaps" in done.stderr.replace("\n", " "), done.stderr
    assert not jobs.exists() or list(jobs.iterdir()) == []


def test_a_mount_of_the_secrets_folder_is_refused(tools, monkeypatch):
    secrets = tools / "secrets"
    monkeypatch.setenv("MAC_SECRETS", str(secrets))
    open_seed(secrets / "arith-test-seed")  # the install's seed, created on first use
    for mount in (tools, secrets):  # a folder that holds it, and the folder itself
        with pytest.raises(ConfigError, match="overlaps"):
            check_mounts([str(mount)])
    scripts = tools / "scripts"
    scripts.mkdir(mode=0o755)
    assert check_mounts([str(scripts)]) == [str(scripts.resolve())]  # a folder beside it is fine
