"""The judge's limits and statuses: time, memory, output, processes, the problem's own time cap; each test after
one that hit a limit starts clean."""

from __future__ import annotations

import asyncio
import time

from judgehelp import statuses
from mac.judge import Judge, JudgeLimits, TestCase


def test_a_test_over_its_time_limit_is_killed_and_the_next_runs(judge):
    code = "if input() == 'loop':\n    while True: pass\nprint('ok')"
    verdict = judge(code, [("loop", "ok"), ("go", "ok")], stop=False, case_timeout_sec=1)
    assert statuses(verdict) == ["time_limit", "passed"]
    assert 0.9 <= verdict.outcomes[0].time_sec < 5  # a busy machine may wake the driver late
    assert verdict.outcomes[0].detail == "over the 1 s limit"


def test_time_is_measured_per_test(judge):
    verdict = judge("import time\ntime.sleep(0.3)\nprint(1)", [("", "1")])
    assert verdict.passed and 0.3 <= verdict.outcomes[0].time_sec < 5


def test_a_memory_hog_hits_the_memory_limit(judge, bwrap_backend):
    code = "x = []\nwhile True: x.append(bytearray(16 << 20))"
    verdict = judge(code + "\n", [("", "1"), ("", "1")], stop=False, memory_mb=256)
    assert statuses(verdict) == ["memory_limit", "memory_limit"]
    if "memory" in bwrap_backend.cgroup_support.controllers:  # the cgroup counted the kill
        assert verdict.outcomes[0].detail == "over the 256 MiB memory limit"
    else:  # RLIMIT_AS: Python's MemoryError
        assert verdict.outcomes[0].detail.startswith("MemoryError")
    assert statuses(judge("print(len(bytearray(100 << 20)))", [("", str(100 << 20))], memory_mb=256)) == ["passed"]


def test_output_past_the_cap_is_an_output_limit(judge):
    assert statuses(judge("print('x' * 300_000)", [("", "x" * 300_000)], output_bytes=1 << 20)) == ["passed"]
    verdict = judge("print('x' * 1_100_000)", [("", "x")], output_bytes=1 << 20)
    assert statuses(verdict) == ["output_limit"] and verdict.outcomes[0].detail == "over 1048576 bytes of output"
    code = "class Solution:\n    def f(self):\n        return 'y' * 2_000_000\n"
    assert statuses(judge(code, [("", '"y"')], fn_name="f", output_bytes=1 << 20)) == ["output_limit"]


def test_processes_are_capped_and_the_next_test_has_all_of_them_again(judge):
    code = """
    import os, time
    if input() == "many":
        n = 0
        try:
            while n < 1000:
                if os.fork() == 0:
                    time.sleep(30); os._exit(0)
                n += 1
        except OSError:
            pass
        print(n)
    else:
        children = 0
        for _ in range(20):
            if os.fork() == 0:
                os._exit(0)
            children += 1
        print(children)
    """
    verdict = judge(code, [("many", "1000"), ("few", "20")], stop=False, pids=32)
    assert statuses(verdict) == ["wrong_answer", "passed"]


def test_the_problem_time_cap_leaves_later_tests_not_run(judge):
    code = "import time\ntime.sleep(0.3)\nprint(1)"
    verdict = judge(code, [("", "1")] * 20, problem_timeout_sec=3)  # 6 s of tests
    reached = [o for o in verdict.outcomes if o.status != "passed"]
    assert verdict.outcomes[-1].status == "not_run" and reached[0].status in ("time_limit", "not_run")
    assert all("the problem's time limit was reached" in o.detail for o in reached)


def test_judge_runs_problems_in_parallel_but_no_more_than_asked(bwrap_backend):
    code = "import time\ntime.sleep(1)\nprint(input())"

    async def run(parallel: int) -> tuple[float, list[bool]]:
        judge = Judge(bwrap_backend, JudgeLimits(), parallel=parallel)
        started = time.monotonic()
        verdicts = await asyncio.gather(*(judge.judge(code, [TestCase(input=str(i), output=str(i))], None)
                                          for i in range(4)))
        return time.monotonic() - started, [v.passed for v in verdicts]

    took, passed = asyncio.run(run(parallel=2))
    assert passed == [True] * 4
    assert took >= 2.0  # four one-second problems, two at a time


def test_the_debugging_backend_judges_alike_without_isolation(judge):
    from mac.sandbox.unsafe import UnsafeBackend

    backend = UnsafeBackend()
    assert judge("a, b = map(int, input().split())\nprint(a + b)", [("1 2", "3"), ("2 2", "4")], backend=backend).passed
    code = "if input() == 'loop':\n    while True: pass\nprint('ok')"
    verdict = judge(code, [("loop", "ok"), ("go", "ok")], stop=False, case_timeout_sec=1, backend=backend)
    assert statuses(verdict) == ["time_limit", "passed"]


def test_cancelling_a_judge_mid_test_leaves_no_process_behind(bwrap_backend):
    import os
    import secrets

    tag = f"{secrets.randbelow(10 ** 9)}.{secrets.randbelow(10 ** 6)}"
    code = f"import os\nos.execvp('sleep', ['sleep', '{tag}'])\n"

    def left_behind() -> list[str]:
        found = []
        for name in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{name}/cmdline", "rb") as fh:
                    if tag.encode() in fh.read():
                        found.append(name)
            except OSError:
                pass
        return found

    async def cancel_midway() -> list[str]:
        judge = Judge(bwrap_backend, JudgeLimits())
        task = asyncio.ensure_future(judge.judge(code, [TestCase(input="", output="")] * 3, None))
        for _ in range(200):  # until the test's process runs
            await asyncio.sleep(0.05)
            if left_behind():
                break
        running = left_behind()
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        return running

    assert asyncio.run(cancel_midway())  # it was running ...
    assert left_behind() == []  # ... and nothing of it is left
