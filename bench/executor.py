"""Executor benchmark: the Ray executor's per-trial overhead against the local one, measured in one run.

    python bench/executor.py [--trials 8]

The same short sim trials (arith, the strong baseline artifact, the smoke budget; seeds 0..N-1) run one at a time,
on the local executor and on the Ray executor (a two-node loopback cluster on this machine, mac.testing.raycluster;
this process is the controller, on the head) in turns, so a busy moment of the machine hits both alike. A trial's
time is its wall clock as the controller sees it: from handing it to the executor to its result being in the job
folder (for Ray: actor start, the trusted side on the worker, streaming the folder back). Printed: the median of each, the ratio ray/local
(target <= 1.2x), and the RSS of the head and of the second node
(their whole process trees: Ray's daemons and idle workers), idle before the job and after it. Needs
`pip install 'mac-bench[ray]'`; scores must match between the executors (checked).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from mac.config import Budget, TaskModelSpec
from mac.store import JobPaths
from mac.testing.raycluster import LocalRayCluster
from mac.trial.budgets import budget_preset
from mac.trial.executors import LocalExecutor
from mac.trial.job import job_configs
from mac.trial.progress import TrialProgress


async def measure(address: str, jobs: Path, trials: int) -> dict[str, list[tuple[float, float | None]]]:
    """(seconds, test score) per trial and executor; local and ray take turns, trial by trial, so both see the
    same machine (connecting to the cluster is outside the trials' times)."""
    from mac.trial.executors.ray import RayExecutor

    configs = job_configs(job="bench", domain="arith", meta_agent="baseline", meta_agent_options={"baseline": "strong"},
                          seeds=trials, suffix="-strong", task_model=TaskModelSpec.parse("sim"),
                          budget=budget_preset("smoke", Budget()))
    executors = {"local": LocalExecutor(1), "ray": RayExecutor(address, concurrency=1)}
    out: dict[str, list[tuple[float, float | None]]] = {name: [] for name in executors}
    async with executors["local"], executors["ray"]:
        for config in configs:
            for name, executor in executors.items():
                paths = JobPaths(jobs / name, "bench").trial(config.trial)
                started = time.perf_counter()
                result = await executor.run_trial(config, paths, progress=TrialProgress(config.trial), index=None)
                out[name].append((time.perf_counter() - started, result.test.accuracy if result.test else None))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=8)
    args = parser.parse_args()
    jobs = Path(tempfile.mkdtemp(prefix="mac-bench-executor-"))
    try:
        with LocalRayCluster(nodes=2) as cluster:
            os.environ.update({k: v for k, v in cluster.env.items() if k.startswith("RAY_")})
            idle = (cluster.rss_mb(0), cluster.rss_mb(1))
            times = asyncio.run(measure(cluster.address, jobs, args.trials))
            after = (cluster.rss_mb(0), cluster.rss_mb(1))
    finally:
        shutil.rmtree(jobs, ignore_errors=True)
    scores = {name: [score for _, score in runs] for name, runs in times.items()}
    if scores["local"] != scores["ray"]:
        raise SystemExit(f"scores differ: {scores}")
    local, ray = (statistics.median(t for t, _ in times[name]) for name in ("local", "ray"))
    print(f"{args.trials} sim trials, one at a time, local and ray taking turns; same scores on both executors")
    print(f"local: median {local:.2f} s per trial")
    print(f"ray:   median {ray:.2f} s per trial")
    print(f"per-trial ratio ray/local: {ray / local:.2f}x (target <= 1.2x)")
    print(f"RSS head:        {idle[0]:.0f} MB idle, {after[0]:.0f} MB after the trials")
    print(f"RSS second node: {idle[1]:.0f} MB idle, {after[1]:.0f} MB after the trials")


if __name__ == "__main__":
    main()
