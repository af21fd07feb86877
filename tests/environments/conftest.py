"""Fixtures of the environment tests: a private image cache, scratch folders sandbox uids can reach, and the
environment backends of this machine (bwrap always; podman/docker reported as not run when absent)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from mac.environments.bwrap import BwrapEnvBackend
from mac.environments.cache import ImageCache
from mac.evidence import EvidenceLog
from mac.paths import scratch_home


@pytest.fixture
def box() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="envtest-", dir=scratch_home()))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def image_cache() -> ImageCache:
    folder = Path(tempfile.mkdtemp(prefix="envcache-", dir=scratch_home()))
    folder.chmod(0o755)
    yield ImageCache(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def evidence() -> EvidenceLog:
    return EvidenceLog()


@pytest.fixture(scope="session")
def bwrap_env(image_cache, evidence) -> BwrapEnvBackend:
    # No skip: a machine that cannot run bwrap fails these tests loudly.
    return BwrapEnvBackend(evidence=evidence, cache=image_cache)
