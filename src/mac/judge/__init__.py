"""The code judge: runs candidate programs in role-"exec" sandboxes and grades them as LiveCodeBench does.

    verdict = await judge_program(code, tests, fn_name=None, backend=BwrapBackend())
    judge = Judge(backend); verdicts = await asyncio.gather(*(judge.judge(c, t, f) for c, t, f in problems))

How a problem is judged. One sandbox per problem (no network, no writable folder, the code read-only, its own
/tmp, memory/CPU/process limits) runs a small trusted driver (driver.py) as the namespace's pid 1. For each
test the controller sends only the input; the driver forks a fresh process for it (harness.py), from a state
that has run no candidate code and has never held any test's data, waits at most `case_timeout_sec`, then kills
every other process in the sandbox and empties /tmp and /dev/shm before the next test; the test's stdout (or
call-based result, as JSON) and how it ended go back to the controller, which compares with the expected output
(compare.py). Expected outputs never enter a sandbox nor any process that runs candidate code, so a program
that prints an expected output it could not compute cannot exist. pass@1: a problem passes when every test does;
judging stops at the first failure (later tests are `not_run`).

LiveCodeBench's rules kept (lcb_runner/evaluation/testing_util.py; MAC's lcb-meta-agent/eval_utils/
local_unified_executor.py is a copy with small changes):
- stdin/stdout: strip, split on "\\n", strip each line; same line count; lines equal, or equal as Decimal
  numbers token by token (exact: no float tolerance).
- call-based: `Solution().<fn_name>(*args)` when the source contains "class Solution" and defines it, else the
  module-level function; args are the input's lines decoded as JSON (empty lines skipped, as MAC does); the
  module is named `tmp_sol` (an `if __name__ == "__main__":` block does not run); a returned tuple becomes a
  list; the result equals the decoded expected JSON under Python `==`.
- the import preamble (preamble.py) runs before the program; int->str conversions allow 50000 digits; an
  uncaught exception is a runtime error; SystemExit ends a stdio program normally.

Where ours differs (each is tested in tests/judge/):
1. A stdio program runs as a real `__main__` process with real stdin/stdout files. LiveCodeBench wraps the
   program's statements into a function (so top-level names are locals there, and a function using `global`
   for one fails with NameError), runs it with a mocked stdin (readline without "\\n", `open()` of any path
   returns the input, no `sys.stdin.buffer`), captures only `sys.stdout` writes (not `sys.stdout.buffer`
   nor `os.write(1, ...)`), and runs a `if __name__ == "__main__":` block only when it is the last statement.
   Here all of those work as in a contest judge.
2. Every test runs in a fresh process: module top-level code and `Solution()` run once per test. LiveCodeBench
   runs the module once per problem and calls one shared `Solution()` instance for every test (state carried
   between tests, e.g. a class-level cache, does not carry here).
3. The call-based result crosses the sandbox as JSON: a tuple below the top level and non-string dict keys never
   match (as under LiveCodeBench's `==`); subclasses of int/float/str/list/dict are read as their base type,
   int-like objects (`__index__`, e.g. numpy integers) as int and other real numbers as float; anything else
   (a set, a custom object) is `bad_format`, where LiveCodeBench would call its `__eq__` (which can lie).
4. No "reliability guard": LiveCodeBench sets ~35 functions (os.kill, os.fork, os.getcwd, subprocess.Popen,
   shutil.rmtree, quit, help, ...) to None, so calling them is a runtime error there; here they work, inside
   the sandbox. `from __future__` imports work (there they follow the preamble: a SyntaxError).
5. Limits: 10 s wall per test (MAC's case_timeout; LiveCodeBench's default is 6 s), enforced by killing the
   process tree (LiveCodeBench's SIGALRM cannot interrupt a long C call); memory 1024 MiB per test and 1 MiB of
   stdout (LiveCodeBench has neither); 64 processes; a 64 MiB /tmp. The recursion limit is MAC's 500000
   (LiveCodeBench: 50000). A stdio program's threads are waited for (LiveCodeBench keeps only what was printed
   before the main code returned). `os._exit(0)` after printing ends a stdio test normally (LiveCodeBench loses
   its result and fails the problem).
6. Statuses are finer: LiveCodeBench has wrong answer (-2), time limit (-3) and runtime error (-4); a program
   that does not compile or lacks `fn_name` is `bad_format` here (runtime error there), and memory and output
   limits have statuses of their own. Details never include expected output (LiveCodeBench's do).
7. Only the runtime's packages are importable (the standard library and the sandbox runtime's packages);
   MAC's evaluation image also has numpy.
"""

from mac.judge.judge import Judge, judge_program
from mac.judge.models import JudgeLimits, ProblemVerdict, TestCase, TestOutcome, TestStatus

__all__ = ["Judge", "JudgeLimits", "ProblemVerdict", "TestCase", "TestOutcome", "TestStatus", "judge_program"]
