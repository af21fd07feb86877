"""Fixtures of the bwrap conformance suite: one real backend, scratch folders the sandbox uids can reach."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from mac.evidence import EvidenceLog
from mac.paths import scratch_home
from mac.sandbox.bwrap import BwrapBackend


@pytest.fixture(scope="session")
def bwrap_backend() -> BwrapBackend:
    # No skip: a machine that cannot run bwrap fails these tests loudly (SandboxError names the fix).
    return BwrapBackend(evidence=EvidenceLog())


@pytest.fixture
def box() -> Path:
    """A scratch folder under mac.paths.scratch_home() (pytest's tmp_path is 0700, so sandbox uids can't bind it)."""
    folder = Path(tempfile.mkdtemp(prefix="test-", dir=scratch_home()))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
