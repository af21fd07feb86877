"""`RunTests`: the grading strategy of code domains. Each prediction is a program; the judge (mac.judge) runs it
on the problem's public and private tests in its own sandbox (role "exec") and compares outputs in the
controller. A problem counts only when every test passes (pass@1).

Problems are judged in parallel, one per core by default (`GradingContext.parallel`), and a problem's private
tests are read only when its turn comes (pulled data keeps them in files). Results carry each test's status
(`tests`: passed, wrong_answer, runtime_error, time_limit, memory_limit, output_limit, bad_format, not_run) and
never an expected output nor the program's text.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mac.domains.base import Domain
from mac.domains.grader import Grade
from mac.domains.common import record_field
from mac.domains.grader import Gradable, GradingContext, GradingStrategy
from mac.errors import ConfigError, DataError
from mac.records import Record


class RunTests(GradingStrategy):
    needs_answer = False
    echo_predictions = False

    def __init__(self, case_timeout_sec: float = 10.0):
        self.case_timeout_sec = case_timeout_sec
        """MAC's fixed `case_timeout`."""

    def describe(self) -> dict[str, Any]:
        return {"case_timeout": self.case_timeout_sec}

    async def grade(self, domain: Domain, items: list[Gradable], ctx: GradingContext) -> list[Grade]:
        from mac.judge import Judge, JudgeLimits
        from mac.judge.judge import default_parallel

        if ctx.backend is None:
            raise ConfigError("grading code needs a sandbox backend to run it in (GradingContext.backend)")
        limits = ctx.limits if isinstance(ctx.limits, JudgeLimits) else JudgeLimits(case_timeout_sec=self.case_timeout_sec)
        parallel = ctx.parallel or default_parallel()
        judge = Judge(ctx.backend, limits, parallel)
        slots = asyncio.Semaphore(parallel)  # tests are loaded inside a slot: one problem's tests in memory per core
        return list(await asyncio.gather(*(self._one(judge, slots, item) for item in items)))

    async def _one(self, judge: Any, slots: asyncio.Semaphore, item: Gradable) -> Grade:
        from mac.judge import TestCase

        async with slots:
            try:
                tests = [TestCase(input=t["input"], output=t["output"]) for t in await asyncio.to_thread(all_tests, item.record)]
                verdict = await judge.judge(item.pred, tests, item.record.extra.get("fn_name") or None)
            except DataError as exc:  # the problem's data is broken, not the program
                return Grade(idx=item.idx, correct=False, pred=None, normalized=None,
                             explanation=f"problem data error, not counted for the program: {exc}"[:300])
        statuses = [{"status": o.status.value, "time_sec": round(o.time_sec, 3), "detail": o.detail}
                    for o in verdict.outcomes]
        return Grade(idx=item.idx, correct=verdict.passed, pred=None, normalized=None,
                     explanation=verdict.explanation, tests=statuses)


def all_tests(record: Record) -> list[dict[str, str]]:
    """Public then private tests of a record (private ones from its file when the data keeps them apart)."""
    public, private = split_tests(record)
    return public + private


def split_tests(record: Record, max_file_bytes: int | None = None) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(public tests, private tests). A private-tests file over `max_file_bytes` gives no private tests (for
    readers that only sample them, like the audit); without a cap, DataError when they cannot be read."""
    from mac.domains.lcb_data import read_tests_file

    private = record_field(record, "private_tests")
    if private is None:
        path = record_field(record, "private_tests_path")
        if not isinstance(path, str):
            raise DataError(f"problem {record.id!r} has no private tests")
        if max_file_bytes is not None and Path(path).stat().st_size > max_file_bytes:
            private = []
        else:
            private = read_tests_file(Path(path))
    return list(record.extra.get("public_test_cases") or []), list(private)
