"""Strong LiveCodeBench baseline: a careful prompt (reasoning first, the starter-code or stdin/stdout rule, one
fenced block), K samples at a temperature, each distinct program run on the problem's PUBLIC tests in a
subprocess of this sandbox, the most frequent passing program kept; when none passes, one repair round that
shows the model a failing program and what went wrong. Concurrent across problems; the deadline is respected."""

import json
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from mac.sdk import BaseAgent, ModelClient, Prediction, Problem, remaining

SAMPLES = 6
REPAIR_SAMPLES = 3
TEMPERATURE = 0.8
WORKERS = 8
RUN_TIMEOUT_SEC = 20.0
"""Wall limit for one candidate on all public tests."""
MARGIN_SEC = 10.0

SYSTEM = ("You are an expert competitive programmer. Think step by step about the algorithm and its edge cases, "
          "then write a correct and efficient Python 3 program.")
WITH_STARTER = ("Use this starter code and keep its class and method signature; the judge calls the method:\n"
                "```python\n{starter}\n```")
STDIN_RULE = "Write a complete program that reads the input from stdin and writes the answer to stdout."
FENCE = "Return the whole program in one ```python code block."
_BLOCK = re.compile(r"```[A-Za-z0-9_+-]*\n(.*?)```", re.S)

# Runs one candidate on the public tests: the candidate's source and the tests arrive as JSON on stdin; one JSON
# line per test comes back: [ok, what happened].
HARNESS = r'''
import io, json, sys, contextlib
job = json.loads(sys.stdin.read())
code, fn, tests = job["code"], job["fn_name"], job["tests"]
def lines(text):
    return [line.strip() for line in text.strip().split("\n")]
for test in tests:
    try:
        if fn:
            scope = {"__name__": "candidate"}
            exec(compile("from typing import *\n" + code, "<candidate>", "exec"), scope)
            args = [json.loads(line) for line in test["input"].split("\n") if line.strip()]
            result = getattr(scope["Solution"](), fn)(*args)
            ok = json.loads(json.dumps(result)) == json.loads(test["output"])
            seen = json.dumps(result)[:200]
        else:
            stdin = io.TextIOWrapper(io.BytesIO(test["input"].encode()))
            out = io.StringIO()
            old = sys.stdin
            sys.stdin = stdin
            try:
                with contextlib.redirect_stdout(out):
                    try:
                        exec(compile(code, "<candidate>", "exec"), {"__name__": "__main__"})
                    except SystemExit:
                        pass
            finally:
                sys.stdin = old
            ok = lines(out.getvalue()) == lines(test["output"])
            seen = out.getvalue()[:200]
        print(json.dumps([ok, "" if ok else "printed " + repr(seen)]), flush=True)
    except BaseException as exc:
        print(json.dumps([False, type(exc).__name__ + ": " + str(exc)[:200]]), flush=True)
'''


def extract_code(reply: str) -> str | None:
    blocks = [b for b in _BLOCK.findall(reply) if "def " in b or "print" in b or "input" in b]
    return blocks[0].strip() + "\n" if blocks else None


def prompt(problem: Problem) -> str:
    starter = problem.extra.get("starter_code") or ""
    rule = WITH_STARTER.format(starter=starter.rstrip()) if starter.strip() else STDIN_RULE
    return f"{problem.question}\n\n{rule}\n\n{FENCE}"


def run_public(code: str, problem: Problem) -> tuple[bool, str]:
    """(all public tests pass, the first failure's description)."""
    tests = problem.extra.get("public_test_cases") or []
    if not tests:
        return True, ""
    job = json.dumps({"code": code, "fn_name": problem.extra.get("fn_name"), "tests": tests})
    try:
        done = subprocess.run([sys.executable, "-c", HARNESS], input=job, capture_output=True, text=True,
                              timeout=min(RUN_TIMEOUT_SEC, max(1.0, remaining() - MARGIN_SEC)))
    except subprocess.TimeoutExpired:
        return False, "the program ran out of time"
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]
    if len(results) < len(tests):
        return False, "the program crashed: " + done.stderr[-300:]
    for number, (ok, what) in enumerate(results, 1):
        if not ok:
            return False, f"public test {number} failed: {what}"
    return True, ""


class StrongLCBAgent(BaseAgent):
    def solve(self, problems: list[Problem], timeout_sec: float) -> list[Prediction]:
        self.client = ModelClient(api_key=self.api_key or None, api_base=self.api_base or None,
                                  model=self.model or None)
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            return [p for p in pool.map(self.answer, problems) if p is not None]

    def sample(self, messages: list[dict], n: int) -> list[str]:
        if remaining() < MARGIN_SEC:
            return []
        try:
            replies = self.client.complete(messages, temperature=TEMPERATURE, n=n)
        except Exception:  # noqa: BLE001 - a failed call gives no candidates
            return []
        return [code for code in map(extract_code, replies) if code]

    def pick(self, candidates: list[str], problem: Problem) -> tuple[str | None, str | None, str]:
        """(most frequent passing program, a failing program, its failure)."""
        failing, why = None, ""
        for code, _ in Counter(candidates).most_common():
            if remaining() < MARGIN_SEC:
                break
            ok, detail = run_public(code, problem)
            if ok:
                return code, failing, why
            failing, why = failing or code, why or detail
        return None, failing, why

    def answer(self, problem: Problem) -> Prediction | None:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt(problem)}]
        candidates = self.sample(messages, SAMPLES)
        if candidates:  # something is kept even if the run is cut off now
            Prediction(idx=problem.idx, pred=Counter(candidates).most_common(1)[0][0])
        best, failing, why = self.pick(candidates, problem)
        if best is None and failing is not None:
            repair = messages + [{"role": "assistant", "content": f"```python\n{failing}```"},
                                 {"role": "user", "content": f"This program is wrong: {why}. Fix it. {FENCE}"}]
            more = self.sample(repair, REPAIR_SAMPLES)
            best, _, _ = self.pick(more, problem)
            candidates += more
        if best is None and not candidates:
            return None
        return Prediction(idx=problem.idx, pred=best or Counter(candidates).most_common(1)[0][0])
