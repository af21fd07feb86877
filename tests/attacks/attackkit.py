"""Helpers of the attack suite (a uniquely named module: several test folders have a conftest.py)."""

from __future__ import annotations

import asyncio
import json

from mac.sandbox.base import SandboxResult, SandboxSpec
from mac.sandbox.bwrap import BwrapBackend


def report_of(result: SandboxResult) -> dict:
    """The JSON object the attacking script printed last (scripts print one line of findings)."""
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the attack script printed no report: rc={result.returncode} stderr={result.stderr[-2000:]}"
    return json.loads(lines[-1])


def assert_controller_works(backend: BwrapBackend) -> None:
    """After an attack, the controller still starts sandboxes and they behave."""
    result = asyncio.run(backend.run(SandboxSpec(label="after-attack", argv=["python", "-c", "print(6 * 7)"])))
    assert result.returncode == 0 and result.stdout == "42\n", result
