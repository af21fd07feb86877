"""Run the in-sandbox runner (`python -m mac.sdk.run`) as a real subprocess on an agent file a test writes."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mac

SRC_DIR = str(Path(mac.__file__).resolve().parent.parent)


@dataclass
class SdkRun:
    payload: dict[str, Any] | None
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def preds(self) -> dict[Any, Any]:
        return {p["idx"]: p["pred"] for p in self.payload["predictions"]}


def default_problems(n: int = 3) -> list[dict[str, Any]]:
    return [{"idx": i, "question": f"What is {i} + 1?", "choices": None, "extra": {}} for i in range(n)]


async def _run_sdk_async(folder: Path, agent_source: str, *, problems: list[dict] | None = None, timeout: float = 20,
                        env: dict[str, str] | None = None, files: dict[str, str] | None = None,
                        agent_name: str = "agent.py") -> SdkRun:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / agent_name).write_text(textwrap.dedent(agent_source))
    for name, text in (files or {}).items():
        (folder / name).write_text(textwrap.dedent(text))
    (folder / "problems.json").write_text(json.dumps(problems if problems is not None else default_problems()))
    out = folder / "result.json"
    # a clean environment, as in a sandbox: only the package (not the compat shims) is on the path
    full_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": SRC_DIR, "HOME": str(folder), **(env or {})}
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mac.sdk.run", "--agent", str(folder / agent_name), "--problems",
        str(folder / "problems.json"), "--out", str(out), "--timeout", str(timeout),
        env=full_env, cwd=str(folder), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout + 30)
    elapsed = time.monotonic() - started
    payload = json.loads(out.read_text()) if out.exists() else None
    return SdkRun(payload, proc.returncode, stdout.decode(), stderr.decode(), elapsed)


@pytest.fixture
def run_sdk(tmp_path):
    """`run_sdk(agent_source, **kw) -> SdkRun` (synchronous)."""
    counter = iter(range(1000))

    def run(agent_source: str, **kwargs: Any) -> SdkRun:
        return asyncio.run(_run_sdk_async(tmp_path / f"a{next(counter)}", agent_source, **kwargs))

    return run


@pytest.fixture(name="run_sdk_async")
def run_sdk_async_fixture():
    """`await run_sdk_async(folder, agent_source, **kw) -> SdkRun`, for tests that also serve something."""
    return _run_sdk_async
