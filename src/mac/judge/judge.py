"""judge_program (one program on one problem's tests) and Judge (many problems at once, bounded)."""

from __future__ import annotations

import asyncio
import functools
import math
import os
import shutil
from pathlib import Path
from typing import Any

from mac.config import SandboxLimits
from mac.errors import ConfigError, DataError
from mac.judge.classify import classify, from_failure
from mac.judge.compare import load_json
from mac.judge.models import JudgeLimits, ProblemVerdict, TestCase, TestOutcome, TestStatus
from mac.judge.preamble import PREAMBLE
from mac.judge.session import (CLEANUP_GRACE_SEC, DRIVER_MEMORY_MB, REPORT_SLACK, WIPE, DriverFailed,
                               DriverSession, problem_folder)
from mac.sandbox.base import SandboxBackend

INLINE_COMPARE_BYTES = 64 << 10
"""Outputs up to this size are compared on the event loop; larger ones in a worker thread (about 0.1 s per MiB)."""


async def judge_program(code: str, tests: list[TestCase], *, fn_name: str | None, backend: SandboxBackend,
                        limits: JudgeLimits | None = None, stop_at_first_failure: bool = True) -> ProblemVerdict:
    """Run `code` on `tests` the way LiveCodeBench judges (see mac.judge), in a fresh role-"exec" sandbox.

    `fn_name` set: call-based (`Solution().<fn_name>(*args)`), else a stdin/stdout program. Only test inputs
    enter the sandbox; expected outputs are compared here. A program that is not a string, is empty or does not
    compile fails with `bad_format`. Raises DataError when a call-based test is not JSON (the problem's data is
    broken, not the program), SandboxError when the backend cannot start a sandbox at all.
    """
    limits = limits or JudgeLimits()
    if not tests:
        return ProblemVerdict(passed=False, outcomes=[], explanation="no tests: a problem without tests never passes")
    if not isinstance(code, str) or not code.strip():
        why = "the program is empty" if isinstance(code, str) else f"the prediction is a {type(code).__name__}, " \
              "not a string of Python source"
        return _verdict([TestOutcome(status=TestStatus.bad_format, detail=why)] +
                        [TestOutcome(status=TestStatus.not_run)] * (len(tests) - 1))
    expected = expected_values(tests, fn_name)
    folder = await asyncio.to_thread(problem_folder, code)
    try:
        outcomes = await _run_tests(folder, tests, expected, fn_name, backend, limits, stop_at_first_failure)
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)
    return _verdict(outcomes)


def expected_values(tests: list[TestCase], fn_name: str | None) -> list[Any]:
    """The expected outputs as compared: stdout text, or (call-based) decoded JSON; inputs are checked too."""
    if fn_name is None:
        return [test.output for test in tests]
    values = []
    for number, test in enumerate(tests, start=1):
        try:
            for line in test.input.split("\n"):
                if line != "":
                    load_json(line)
            values.append(load_json(test.output))
        except (ValueError, RecursionError) as exc:
            raise DataError(f"call-based test {number} is not JSON ({type(exc).__name__}): each input line must be "
                            "one JSON value and the output one JSON value; fix the problem's data") from None
    return values


def _sandbox_limits(tests: list[TestCase], limits: JudgeLimits) -> SandboxLimits:
    per_test = limits.case_timeout_sec + CLEANUP_GRACE_SEC
    wall = limits.problem_timeout_sec + 30 if limits.problem_timeout_sec else len(tests) * per_test + 60
    biggest_input_mb = math.ceil(max(len(t.input.encode("utf-8", "surrogatepass")) for t in tests) / (1 << 20))
    return SandboxLimits(wall_sec=wall, memory_mb=limits.memory_mb + DRIVER_MEMORY_MB + 2 * biggest_input_mb,
                         pids=limits.pids + 4, cpus=limits.cpus, tmp_mb=limits.tmp_mb, shm_mb=limits.tmp_mb,
                         file_size_mb=max(limits.tmp_mb, biggest_input_mb + 1), output_bytes=64 << 10)


def _driver_config(fn_name: str | None, backend: SandboxBackend, limits: JudgeLimits) -> dict[str, Any]:
    return {"mode": "call" if fn_name else "stdio", "fn_name": fn_name, "preamble": PREAMBLE,
            "case_timeout": limits.case_timeout_sec, "file_bytes": limits.tmp_mb << 20,
            "send_bytes": limits.output_bytes + REPORT_SLACK,
            "wipe": list(WIPE) if backend.isolated else []}  # never empty a host folder


class _ProblemRun:
    """The tests of one problem, one at a time, through a driver session (a fresh one after any failure)."""

    def __init__(self, folder: Path, tests: list[TestCase], fn_name: str | None, backend: SandboxBackend,
                 limits: JudgeLimits):
        self.folder, self.fn_name, self.backend, self.limits = folder, fn_name, backend, limits
        self.config = _driver_config(fn_name, backend, limits)
        self.sandbox_limits = _sandbox_limits(tests, limits)
        self.session: DriverSession | None = None

    async def run(self, test: TestCase, expected: Any, left: float) -> TestOutcome:
        if self.session is None:
            self.session = DriverSession(self.backend, self.folder, self.config, self.sandbox_limits,
                                         label=f"judge/{self.folder.name}")
            try:
                await self.session.start()
            except DriverFailed:
                self.session = None
                return TestOutcome(status=TestStatus.runtime_error,
                                   detail="the sandbox ended while loading the program")
        if self.session.compile_error is not None:
            return TestOutcome(status=TestStatus.bad_format,
                               detail=f"{self.session.compile_error}: the program does not compile")
        per_test = self.limits.case_timeout_sec + CLEANUP_GRACE_SEC
        try:
            raw = await self.session.run_test(test.input, min(per_test, left))
        except DriverFailed as failure:
            self.session = None  # it ended: the next test gets a fresh sandbox
            outcome = from_failure(failure)
            if failure.timed_out and left < per_test:
                outcome.detail = "the problem's time limit was reached"
            return outcome
        if raw.end.get("restart") is True:
            await self.close()
        judged = functools.partial(classify, raw, expected, call_based=self.fn_name is not None,
                                   fn_name=self.fn_name, limits=self.limits)
        if len(raw.stdout) + len(raw.report) > INLINE_COMPARE_BYTES:  # a big output must not hold up the loop
            return await asyncio.to_thread(judged)
        return judged()

    async def close(self, kill: bool = False) -> None:
        session, self.session = self.session, None
        if session is not None:
            await (session.kill("judge: cancelled") if kill else session.close())


async def _run_tests(folder: Path, tests: list[TestCase], expected: list[Any], fn_name: str | None,
                     backend: SandboxBackend, limits: JudgeLimits, stop: bool) -> list[TestOutcome]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.problem_timeout_sec if limits.problem_timeout_sec else math.inf
    problem = _ProblemRun(folder, tests, fn_name, backend, limits)
    outcomes: list[TestOutcome] = []
    try:
        for test, want in zip(tests, expected):
            left = deadline - loop.time()
            if (stop and outcomes and outcomes[-1].status != TestStatus.passed) or left <= 0:
                outcomes.append(TestOutcome(status=TestStatus.not_run,
                                            detail="" if left > 0 else "the problem's time limit was reached"))
            else:
                outcomes.append(await problem.run(test, want, left))
    except BaseException:  # e.g. cancelled: the sandbox dies now rather than after its current test
        await problem.close(kill=True)
        raise
    await problem.close()
    return outcomes


def _verdict(outcomes: list[TestOutcome]) -> ProblemVerdict:
    total = len(outcomes)
    passed = total > 0 and all(o.status == TestStatus.passed for o in outcomes)
    if passed:
        return ProblemVerdict(passed=True, outcomes=outcomes, explanation=f"passed all {total} tests")
    number, first = next((i, o) for i, o in enumerate(outcomes, start=1) if o.status != TestStatus.passed)
    detail = f" ({first.detail})" if first.detail else ""
    return ProblemVerdict(passed=False, outcomes=outcomes,
                          explanation=f"test {number} of {total}: {first.status.value.replace('_', ' ')}{detail}")


def default_parallel() -> int:
    """One problem per core this process may use."""
    return max(len(os.sched_getaffinity(0)), 1)


class Judge:
    """Judges many problems at once, at most `parallel` at a time (default: one per core). Each problem gets its
    own sandbox, so parallel problems share nothing but the machine."""

    def __init__(self, backend: SandboxBackend, limits: JudgeLimits | None = None, parallel: int | None = None):
        if parallel is not None and parallel < 1:
            raise ConfigError(f"Judge(parallel={parallel}): give at least 1, or None for one per core")
        self.backend, self.limits = backend, limits or JudgeLimits()
        self.parallel = parallel or default_parallel()
        self._slots = asyncio.Semaphore(self.parallel)

    async def judge(self, code: str, tests: list[TestCase], fn_name: str | None) -> ProblemVerdict:
        async with self._slots:
            return await judge_program(code, tests, fn_name=fn_name, backend=self.backend, limits=self.limits)
