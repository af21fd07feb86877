"""The MAC reference meta-agent: a program that builds an artifact through the evaluation API.

Runs inside the meta-agent sandbox with the standard library only (the artifacts it writes use mac.sdk):

    python reference_program.py --seed N --workspace /workspace

It reads EVALUATION_API_URL and MAC_DEADLINE from the environment, /workspace/dev_problems.json, and the
domain's answer format from GET /info: short answers use reference_template.txt (voting over extracted
answers, format repair), code uses reference_template_code.txt (sampling, running the distinct programs on the
public tests and keeping the most frequent one that passes, one repair round on a failure).
Plan: screen a few designs on the first dev problems (first_k), evaluate the best two on the whole dev split,
then search best-first over their neighbours (more samples, other temperatures, filtering, repair) while
GET /budget says the time and the model quota allow one more evaluation. `agent.py` always holds the best design measured so far;
candidates are evaluated as `candidate.py`, so a kill at the deadline never leaves an unmeasured artifact.
Deterministic given the seed (and the evaluation results).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAFETY_SEC = 1.0
"""Seconds kept free before the deadline when deciding whether one more evaluation fits."""


def log(message: str) -> None:
    print(f"[reference {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- the evaluation API ------------------------------------------------------------------------------------
class EvalAPI:
    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, body: dict | None = None, timeout: float = 30.0) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def budget(self) -> dict:
        return self._call("GET", "/budget")[1]

    def info(self) -> dict:
        return self._call("GET", "/info")[1]

    def evaluate(self, agent_file: str, first_k: int | None, timeout: float) -> dict:
        body = {"agent_file": agent_file, "split": "eval", "timeout": timeout, "first_k": first_k}
        for _ in range(20):
            status, payload = self._call("POST", "/evaluate/agent", body, timeout=timeout + 60)
            if status != 409:
                return payload
            time.sleep(0.5)  # someone else's evaluation (should not happen: we are alone)
        return {"success": False, "error": "evaluation service stayed busy"}


# -- designs -----------------------------------------------------------------------------------------------
TEMPLATES = {"code": "reference_template_code.txt"}
"""The artifact template per answer format (anything else: reference_template.txt)."""


def design(name: str, *, cot: bool, fmt: bool, samples: int = 1, temperature: float = 0.0, repair: bool = False,
           filter: bool | None = None, kind: str = "answer") -> dict:
    d = {"name": name, "kind": kind, "cot": cot, "format": fmt, "samples": samples, "temperature": temperature,
         "repair": repair, "workers": 8}
    if filter is not None:
        d["filter"] = filter  # code: run candidates on the public tests
    return d


def screening_designs(rng: random.Random, kind: str = "answer") -> list[dict]:
    """One call as-is, with the format, with chain of thought, and a first self-consistency design (code: sampling
    with and without public-test filtering)."""
    t = rng.choice([0.6, 0.7, 0.8])
    k = rng.choice([5, 7])
    if kind == "code":
        return [
            design("single", cot=False, fmt=False, filter=False, kind=kind),
            design("single-format", cot=False, fmt=True, filter=False, kind=kind),
            design("cot", cot=True, fmt=True, filter=False, kind=kind),
            design(f"cot-sc{k}-t{t}", cot=True, fmt=True, samples=k, temperature=t, filter=False, kind=kind),
            design(f"cot-sc{k}-t{t}-filter", cot=True, fmt=True, samples=k, temperature=t, filter=True, kind=kind),
        ]
    return [
        design("single", cot=False, fmt=False),
        design("single-format", cot=False, fmt=True),
        design("cot", cot=True, fmt=True),
        design(f"cot-sc{k}-t{t}", cot=True, fmt=True, samples=k, temperature=t),
        design(f"cot-sc{k}-t{t}-repair", cot=True, fmt=True, samples=k, temperature=t, repair=True),
    ]


def neighbours(best: dict, rng: random.Random) -> list[dict]:
    """Variations of the best design: more samples, another temperature, format repair on."""
    out = []
    k, t = best["samples"], best["temperature"]
    for samples in (k + 4, 2 * k + 1):
        out.append({**best, "samples": min(samples, 31), "temperature": t or 0.7})
    for temperature in (round(t + 0.3, 1), round(max(0.3, t - 0.3), 1)):
        if temperature != t and temperature <= 1.2:
            out.append({**best, "temperature": temperature, "samples": max(k, 3)})
    if "filter" in best and not best["filter"]:
        out.append({**best, "filter": True, "samples": max(k, 3), "temperature": t or 0.7})
    if not best["repair"] and best.get("filter", True):
        out.append({**best, "repair": True})
    rng.shuffle(out)
    for d in out:
        d["name"] = (f"{'cot' if d['cot'] else 'plain'}-sc{d['samples']}-t{d['temperature']}"
                     f"{'-filter' if d.get('filter') else ''}{'-repair' if d['repair'] else ''}")
    return out


def render(d: dict) -> str:
    template = (HERE / TEMPLATES.get(d.get("kind", "answer"), "reference_template.txt")).read_text()
    return template.replace("__NAME__", d["name"]).replace("__DESIGN__", repr(dict(sorted(d.items()))))


def requests_per_problem(d: dict) -> float:
    return d["samples"] + ((0.3 * max(1, d["samples"] // 2) if d.get("filter") else 0.3) if d["repair"] else 0.0)


# -- the search --------------------------------------------------------------------------------------------
class Search:
    def __init__(self, api: EvalAPI, workspace: Path, n_dev: int, deadline: float, kind: str = "answer"):
        self.api, self.workspace, self.n_dev, self.deadline = api, workspace, n_dev, deadline
        self.kind = kind
        """"code" (programs judged on tests) or "answer" (short answers)."""
        self.best: dict | None = None
        self.best_score = -1.0
        self.overhead_sec = 1.0  # sandbox start + grading, learned from the evaluations
        self.sec_per_request = 0.005
        self.sec_per_problem = 0.5  # code: judging and public-test runs dominate, learned from the evaluations
        self.runs: list[tuple[int, float]] = []
        self.per_problem: list[float] = []
        self.history: list[dict] = []
        self.full: list[tuple[float, dict]] = []
        """(accuracy, design) of every whole-split evaluation."""

    def affordable(self, d: dict, n_problems: int) -> bool:
        budget = self.api.budget()
        requests = requests_per_problem(d) * n_problems
        left = budget.get("quota_left", {}).get("requests")
        if left is not None and requests > 0.9 * left:
            log(f"skip {d['name']}: needs ~{requests:.0f} requests, {left} left")
            return False
        time_left = budget.get("time_left_sec", self.deadline - time.time())
        needed = self.overhead_sec + requests * self.sec_per_request + SAFETY_SEC
        if self.kind == "code":  # each problem is judged in a sandbox; filtering also runs programs per problem
            needed = max(needed, n_problems * self.sec_per_problem * (1.5 if d.get("filter") else 1.0) + SAFETY_SEC)
        if needed > time_left:
            log(f"skip {d['name']}: needs ~{needed:.1f}s, {time_left:.1f}s left")
            return False
        return True

    def evaluate(self, d: dict, first_k: int | None) -> float | None:
        n = first_k or self.n_dev
        if not self.affordable(d, n):
            return None
        (self.workspace / "candidate.py").write_text(render(d))
        timeout = max(1.0, self.deadline - time.time() - 1.0)
        result = self.api.evaluate("candidate.py", first_k, timeout)
        self.learn(result)
        self.learn_per_problem(result, n, d)
        score = float(result.get("accuracy", 0.0)) if result.get("success") else None
        if score is not None and first_k is None:
            self.full.append((score, d))
        self.history.append({"design": d["name"], "first_k": first_k, "accuracy": score,
                             "error": result.get("error"), "wall_sec": result.get("wall_sec")})
        log(f"{d['name']:<28} first_k={first_k or 'all':<4} accuracy={score if score is not None else -1:5.1f} "
            f"requests={result.get('usage', {}).get('requests', 0)} {result.get('error') or ''}")
        return score

    def learn(self, result: dict) -> None:
        """A linear cost model: fixed overhead (the fastest run) + seconds per model request (the median rate).
        Optimistic on purpose: an evaluation cut off by the deadline costs nothing but time, since the
        candidate is evaluated as candidate.py and agent.py already holds the best design."""
        wall = float(result.get("wall_sec") or 0.0)
        requests = int(result.get("usage", {}).get("requests", 0) or 0)
        if wall <= 0:
            return
        self.runs.append((requests, wall))
        self.overhead_sec = max(0.3, min(w for _, w in self.runs))
        rates = sorted((w - self.overhead_sec) / r for r, w in self.runs if r > 0)
        self.sec_per_request = max(0.0005, rates[len(rates) // 2]) if rates else self.sec_per_request

    def learn_per_problem(self, result: dict, n_problems: int, d: dict) -> None:
        """Code: seconds per problem of an evaluation (the median over runs, filtering designs counted as 1.5)."""
        wall = float(result.get("wall_sec") or 0.0)
        if wall > 0 and n_problems > 0:
            self.per_problem.append(wall / n_problems / (1.5 if d.get("filter") else 1.0))
            self.sec_per_problem = sorted(self.per_problem)[len(self.per_problem) // 2]

    def adopt_if_better(self, d: dict, score: float | None) -> None:
        """Full-dev scores only: the best design becomes agent.py (written atomically)."""
        if score is None or score <= self.best_score:
            return
        self.best, self.best_score = d, score
        tmp = self.workspace / ".agent.py.tmp"
        tmp.write_text(render(d))
        os.replace(tmp, self.workspace / "agent.py")
        log(f"agent.py <- {d['name']} (dev accuracy {score:.1f})")


def key(d: dict) -> str:
    return json.dumps(d, sort_keys=True)


def screen(search: Search, rng: random.Random) -> list[tuple[float, dict]]:
    """Score the screening designs on the first dev problems; the two best then run on the whole split."""
    screen_k = min(search.n_dev, max(8, search.n_dev // 3))
    first_k = screen_k if screen_k < search.n_dev else None
    screened = []
    for d in screening_designs(rng, search.kind):
        score = search.evaluate(d, first_k)
        if score is not None:
            screened.append((score, -requests_per_problem(d), d))
    screened.sort(key=lambda s: (s[0], s[1]), reverse=True)
    for score, _, d in screened[:2]:
        search.adopt_if_better(d, score if first_k is None else search.evaluate(d, None))
    if search.best is None and screened:  # no time for a whole-split run: the best screened design it is
        search.adopt_if_better(screened[0][2], screened[0][0])
    return [(score, d) for score, _, d in screened]


def refine(search: Search, rng: random.Random, tried: set[str]) -> None:
    """Best-first search: expand the best whole-split design not expanded yet, evaluating its neighbours;
    a neighbour that beats its parent is expanded next. Ends when nothing is left or affordable."""
    expanded: set[str] = set()
    while True:
        frontier = [(score, d) for score, d in search.full if key(d) not in expanded]
        if not frontier:
            return
        parent_score, parent = max(frontier, key=lambda item: item[0])
        expanded.add(key(parent))
        for d in neighbours(parent, rng):
            if key(d) in tried:
                continue
            tried.add(key(d))
            score = search.evaluate(d, None)
            search.adopt_if_better(d, score)
            if score is not None and score > parent_score:
                break


def run(seed: int, workspace: Path) -> int:
    rng = random.Random(seed)
    api = EvalAPI(os.environ["EVALUATION_API_URL"])
    deadline = float(os.environ.get("MAC_DEADLINE") or time.time() + 3600)
    n_dev = len(json.loads((workspace / "dev_problems.json").read_text()))
    kind = "code" if api.info().get("answer_format") == "code" else "answer"
    search = Search(api, workspace, n_dev, deadline, kind)
    log(f"seed {seed}: {n_dev} dev problems ({kind}), {deadline - time.time():.0f}s of development")
    # something sensible is in place before the first measurement (replaced by the first measured design)
    first = design("cot", cot=True, fmt=True, kind=kind, filter=False if kind == "code" else None)
    (workspace / "agent.py").write_text(render(first))
    screened = screen(search, rng)
    refine(search, rng, {key(d) for _, d in screened})
    (workspace / "candidate.py").unlink(missing_ok=True)
    notes = {"best": search.best, "best_dev_accuracy": search.best_score, "history": search.history}
    (workspace / "reference_notes.json").write_text(json.dumps(notes, indent=1))
    log(f"done: best {search.best['name'] if search.best else None} ({search.best_score:.1f})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reference_program")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workspace", type=Path, default=Path("/workspace"))
    args = parser.parse_args(argv)
    return run(args.seed, args.workspace)


if __name__ == "__main__":
    sys.exit(main())
