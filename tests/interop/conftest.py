"""Fixtures of the interop tests: a scratch folder sandbox uids can reach."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from mac.paths import scratch_home


@pytest.fixture
def box() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="interop-", dir=scratch_home()))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
