"""Speed of the code judge (mac.judge), measured in one run:

    python bench/judge.py [--rounds 5] [--tests 100] [--problems 20] [--parallel 2]

1. Per-test overhead: one small stdin/stdout program on N tests, judged by judge_program (a fresh role-"exec"
   sandbox, the driver, a fresh process per test, LiveCodeBench's comparison) against the same program (the
   preamble and the code in one file) run once per test with plain `subprocess.run` and no isolation, by the
   same interpreter, compared the same way. Both sides are whole-problem wall times (the judge's includes
   starting and ending its sandbox), divided by N; the variants alternate each round; medians of the rounds.
   Target: judge / plain <= 1.5.
2. Throughput: P problems (half stdin/stdout, half call-based, 10 small tests each) through
   Judge(parallel=2): problems judged per second, median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from mac.judge import Judge, JudgeLimits, TestCase, judge_program
from mac.judge.compare import compare_stdout
from mac.judge.preamble import PREAMBLE
from mac.paths import scratch_home
from mac.sandbox.bwrap import BwrapBackend
from mac.sandbox.runtime import ensure_runtime

STDIO = "n = int(input())\nvalues = list(map(int, input().split()))\nprint(sum(values) * n)\n"
CALL = "class Solution:\n    def total(self, values: List[int], n: int) -> int:\n        return sum(values) * n\n"


def stdio_tests(count: int) -> list[TestCase]:
    return [TestCase(input=f"{i}\n{' '.join(map(str, range(i % 50)))}\n", output=f"{sum(range(i % 50)) * i}\n")
            for i in range(count)]


def call_tests(count: int) -> list[TestCase]:
    return [TestCase(input=f"{list(range(i % 50))}\n{i}", output=str(sum(range(i % 50)) * i)) for i in range(count)]


def plain(python: str, program: Path, tests: list[TestCase]) -> float:
    """The same program once per test with plain subprocess: seconds for the whole problem."""
    started = time.perf_counter()
    for test in tests:
        done = subprocess.run([python, "-I", str(program)], input=test.input.encode(), capture_output=True,
                              timeout=10)
        if done.returncode != 0 or not compare_stdout(done.stdout.decode(), test.output)[0]:
            raise SystemExit(f"plain run failed: {done.stderr.decode()[-500:]}")
    return time.perf_counter() - started


async def judged(backend: BwrapBackend, tests: list[TestCase]) -> float:
    started = time.perf_counter()
    verdict = await judge_program(STDIO, tests, fn_name=None, backend=backend)
    if not verdict.passed:
        raise SystemExit(f"judge failed: {verdict.explanation}")
    return time.perf_counter() - started


async def overhead(backend: BwrapBackend, python: str, tests: int, rounds: int) -> dict[str, float]:
    cases = stdio_tests(tests)
    with tempfile.TemporaryDirectory(dir=scratch_home()) as folder:
        program = Path(folder) / "program.py"
        program.write_text(PREAMBLE + STDIO)
        await judged(backend, cases[:5])  # warm-up: runtime, launchers
        plain(python, program, cases[:5])
        judge_runs, plain_runs = [], []
        for round_ in range(rounds):
            if round_ % 2:
                plain_runs.append(plain(python, program, cases))
                judge_runs.append(await judged(backend, cases))
            else:
                judge_runs.append(await judged(backend, cases))
                plain_runs.append(plain(python, program, cases))
    judge_ms = statistics.median(judge_runs) / tests * 1000
    plain_ms = statistics.median(plain_runs) / tests * 1000
    return {"judge_ms_per_test": judge_ms, "plain_ms_per_test": plain_ms, "ratio": judge_ms / plain_ms}


async def throughput(backend: BwrapBackend, problems: int, parallel: int, rounds: int) -> float:
    judge = Judge(backend, JudgeLimits(), parallel=parallel)
    work = [(STDIO, stdio_tests(10), None) if i % 2 == 0 else (CALL, call_tests(10), "total") for i in range(problems)]
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        verdicts = await asyncio.gather(*(judge.judge(code, tests, fn) for code, tests, fn in work))
        rates.append(problems / (time.perf_counter() - started))
        if not all(v.passed for v in verdicts):
            raise SystemExit("throughput run: a problem failed")
    return statistics.median(rates)


async def main(args: argparse.Namespace) -> None:
    backend = BwrapBackend()
    python = str((await asyncio.to_thread(ensure_runtime)).python)
    over = await overhead(backend, python, args.tests, args.rounds)
    rate = await throughput(backend, args.problems, args.parallel, args.rounds)
    print(f"per-test cost over {args.tests} tests (medians of {args.rounds} rounds): judge "
          f"{over['judge_ms_per_test']:.1f} ms, plain subprocess {over['plain_ms_per_test']:.1f} ms")
    print(f"judge / plain subprocess: {over['ratio']:.2f}x (target <= 1.5x)")
    print(f"throughput: {rate:.1f} problems/s ({args.problems} problems x 10 tests, parallel={args.parallel})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--problems", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
