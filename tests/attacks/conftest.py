"""Fixtures of the attack suite: the real bwrap backend (never skipped: no bwrap is a loud failure), scratch
folders sandbox uids can reach, and `attack(...)`, which runs an attacking script and returns its report."""

from __future__ import annotations

import asyncio
import json
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


def report_of(result: SandboxResult) -> dict:
    """The JSON object the attacking script printed last (scripts print one line of findings)."""
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the attack script printed no report: rc={result.returncode} stderr={result.stderr[-2000:]}"
    return json.loads(lines[-1])


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


def assert_controller_works(backend: BwrapBackend) -> None:
    """After an attack, the controller still starts sandboxes and they behave."""
    result = asyncio.run(backend.run(SandboxSpec(label="after-attack", argv=["python", "-c", "print(6 * 7)"])))
    assert result.returncode == 0 and result.stdout == "42\n", result
