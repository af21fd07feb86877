"""Fixtures of the judge's tests: the real bwrap backend (never skipped) and `judge(...)`, which runs
judge_program on it."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from mac.evidence import EvidenceLog
from mac.judge import JudgeLimits, ProblemVerdict, TestCase, judge_program
from mac.sandbox.bwrap import BwrapBackend


@pytest.fixture(scope="session")
def bwrap_backend() -> BwrapBackend:
    return BwrapBackend(evidence=EvidenceLog())


@pytest.fixture
def judge(bwrap_backend):
    """judge(code, [(input, output), ...], fn_name=None, stop=True, backend=None, **JudgeLimits fields)."""

    def run(code: str, tests: list[tuple[str, str]], fn_name: str | None = None, stop: bool = True,
            backend=None, **limits) -> ProblemVerdict:
        cases = [TestCase(input=i, output=o) for i, o in tests]
        return asyncio.run(judge_program(textwrap.dedent(code), cases, fn_name=fn_name,
                                         backend=backend or bwrap_backend, limits=JudgeLimits(**limits),
                                         stop_at_first_failure=stop))

    return run
