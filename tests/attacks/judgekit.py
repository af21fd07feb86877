"""Helpers of the judge's attack tests: run a program through judge_program on the real backend, and look for
processes left anywhere on the host."""

from __future__ import annotations

import asyncio
import os
import textwrap

from mac.judge import JudgeLimits, ProblemVerdict, TestCase, judge_program
from mac.sandbox.base import SandboxBackend


def judge(backend: SandboxBackend, code: str, tests: list[tuple[str, str]], fn_name: str | None = None,
          stop: bool = True, **limits) -> ProblemVerdict:
    cases = [TestCase(input=i, output=o) for i, o in tests]
    return asyncio.run(judge_program(textwrap.dedent(code), cases, fn_name=fn_name, backend=backend,
                                     limits=JudgeLimits(**limits), stop_at_first_failure=stop))


def statuses(verdict: ProblemVerdict) -> list[str]:
    return [o.status.value for o in verdict.outcomes]


def host_processes_with(marker: str) -> list[int]:
    """Live host pids whose command line contains `marker` (zombies have none)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        found.append(int(name))
            except OSError:
                pass
    return found
