"""Fixtures of the attack suite: the real bwrap backend (never skipped: no bwrap is a loud failure), scratch
folders sandbox uids can reach, and `attack(...)`, which runs an attacking script (helpers: attackkit.py)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest

from mac.evidence import EvidenceLog
from mac.paths import scratch_home
from mac.sandbox.base import SandboxResult, SandboxSpec
from mac.sandbox.bwrap import BwrapBackend


@pytest.fixture(scope="session")
def evidence() -> EvidenceLog:
    return EvidenceLog()


@pytest.fixture(scope="session")
def bwrap_backend(evidence) -> BwrapBackend:
    return BwrapBackend(evidence=evidence)


@pytest.fixture
def box() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="attack-", dir=scratch_home()))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def attack(bwrap_backend, box):
    """attack(script, **spec fields) -> SandboxResult. The script is /workspace/attack.py (read-only snapshot
    unless `workspace`/`workspace_writable` are given)."""

    def run(script: str, **fields) -> SandboxResult:
        workspace = fields.pop("workspace", None) or box / "ws"
        workspace.mkdir(exist_ok=True)
        (workspace / "attack.py").write_text(textwrap.dedent(script))
        (workspace / "attack.py").chmod(0o644)
        args = fields.pop("args", [])
        spec = SandboxSpec(label=fields.pop("label", "attack"), argv=["python", "/workspace/attack.py", *args],
                           workspace=workspace, **fields)
        return asyncio.run(bwrap_backend.run(spec))

    return run
