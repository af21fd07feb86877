"""Trial benchmark: the harness's own overhead in a trial, extrapolated to a 12 h development budget.

    python bench/trial.py [--dev-time 20] [--sandbox bwrap] [--runs 5]

Overhead is time spent neither in the meta-agent, nor in the artifacts, nor in the model:
  fixed   = prepare + start + freeze + audit + (develop phase - the meta-agent's own wall clock)
            + results bookkeeping + the harness part of verification;
  per run = the wall clock of one artifact run of a no-op artifact (snapshot, sandbox start and teardown,
            interpreter start, grading 60 predictions): what every dev evaluation and the verification pay.
One reference trial on arith (sim) gives the fixed part; `--runs` no-op runs give the per-run part (median).
12 h extrapolation: fixed + (evaluations + 1) x per-run, for a meta-agent evaluating once every 5 minutes and
once a minute (the published MAC agents evaluate far less often). Target: < 1% of 12 h.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mac.config import Quota, TaskModelSpec
from mac.domains.base import get_domain
from mac.evaluation.runner import run_artifact
from mac.gateway import Gateway, make_backend
from mac.paths import scratch_home
from mac.sandbox.registry import get_backend
from mac.store import JobPaths
from mac.trial.budgets import budget_preset, override_budget
from mac.trial.job import job_configs, run_job

NOOP_AGENT = '''
from mac.sdk import BaseAgent, Prediction

class Noop(BaseAgent):
    def solve(self, problems, timeout_sec):
        return [Prediction(p.idx, "0") for p in problems]
'''
TWELVE_HOURS = 12 * 3600


async def noop_runs(runs: int, sandbox: str) -> list[float]:
    domain = get_domain("arith")
    records = domain.load("dev")
    folder = Path(tempfile.mkdtemp(prefix="bench-trial-", dir=scratch_home()))
    folder.chmod(0o711)
    (folder / "artifact").mkdir()
    (folder / "artifact" / "agent.py").write_text(NOOP_AGENT)
    backend = get_backend(sandbox)
    walls = []
    try:
        async with Gateway(make_backend(TaskModelSpec()), "sim", None, folder / "sockets") as gateway:
            grant = gateway.grant(phase="dev", quota=Quota())
            for _ in range(runs):
                started = time.perf_counter()
                result = await run_artifact(domain=domain, records=records, split="dev", artifact=folder / "artifact",
                                            gateway=gateway, token=grant.token, backend=backend, timeout=60,
                                            workdir=folder)
                walls.append(time.perf_counter() - started)
                assert result.success, result.error
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return walls


async def one_trial(dev_time: float, sandbox: str):
    budget = override_budget(budget_preset("demo", get_domain("arith").default_budget()), dev_time=dev_time)
    jobs = Path(tempfile.mkdtemp(prefix="bench-jobs-"))
    try:
        configs = job_configs(job="bench", domain="arith", meta_agent="reference", seeds=1,
                              task_model=TaskModelSpec.parse("sim"), budget=budget, sandbox=sandbox)
        [result] = await run_job(JobPaths(jobs, "bench"), configs, concurrency=1)
    finally:
        shutil.rmtree(jobs, ignore_errors=True)
    return result


def fixed_overhead(result, per_run: float) -> dict[str, float]:
    t = {name: timing.duration_sec or 0.0 for name, timing in result.timings.items()}
    develop_harness = max(0.0, t["develop"] - result.meta_agent_exit.wall_sec)
    last_phase_end = max(timing.finished_at or 0.0 for timing in result.timings.values())
    first_phase_start = min(timing.started_at for timing in result.timings.values())
    parts = {
        "before phases (config, folders)": first_phase_start - result.started_at,
        "prepare": t["prepare"], "start": t["start"], "develop (outside the meta-agent)": develop_harness,
        "freeze": t["freeze"], "audit (static scan, evidence, rules)": t.get("audit", 0.0),
        "verify (harness part = one no-op run)": min(per_run, t["verify"]),
        "results": (result.finished_at or last_phase_end) - last_phase_end,
    }
    return parts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dev-time", type=float, default=20.0)
    parser.add_argument("--sandbox", default="bwrap")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    walls = asyncio.run(noop_runs(args.runs, args.sandbox))
    per_run = statistics.median(walls)
    result = asyncio.run(one_trial(args.dev_time, args.sandbox))
    if result.status != "completed":
        print(f"trial failed: {result.reason}", file=sys.stderr)
        return 1
    parts = fixed_overhead(result, per_run)
    fixed = sum(parts.values())
    total = (result.finished_at or 0) - result.started_at
    print(f"trial: {total:.2f}s wall, meta-agent {result.meta_agent_exit.wall_sec:.2f}s, "
          f"{result.dev_evals} dev evaluations, test {result.test.accuracy:.1f} (SIMULATED)")
    for name, seconds in parts.items():
        print(f"  {name:<40} {seconds * 1000:8.1f} ms")
    print(f"fixed overhead per trial: {fixed:.3f}s")
    print(f"per artifact run (no-op artifact, 60 problems, median of {len(walls)}): {per_run * 1000:.0f} ms "
          f"[{', '.join(f'{w * 1000:.0f}' for w in walls)}]")
    for label, per_hour in (("every 5 min", 12), ("every minute", 60)):
        evaluations = per_hour * 12
        overhead = fixed + (evaluations + 1) * per_run
        print(f"12 h, one dev evaluation {label} ({evaluations}): overhead {overhead:.1f}s = "
              f"{100 * overhead / TWELVE_HOURS:.3f}% of 12 h (target < 1%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
