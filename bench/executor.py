"""Executor benchmark: the Ray executor's per-trial overhead against the local one, measured in one run.

    python bench/executor.py [--trials 8]

The same short sim trials (arith, the strong baseline artifact, the smoke budget; seeds 0..N-1) run one at a time,
first on the local executor, then on the Ray executor against a two-node loopback cluster on this machine
(mac.testing.raycluster; this process is the controller, on the head). A trial's time is its wall clock as the
controller sees it: from handing it to the executor to its result being in the job folder (for Ray: actor start,
the trusted side on the worker, streaming the folder back). Printed: the median of each, the ratio ray/local
(target <= 1.2x), the one-off time to connect to the cluster, and the RSS of the head and of the second node
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
from typing import Any

from mac.config import Budget, TaskModelSpec
from mac.store import JobPaths
from mac.testing.raycluster import LocalRayCluster
from mac.trial.budgets import budget_preset
from mac.trial.executors import LocalExecutor
from mac.trial.job import job_configs, run_job


class Timed:
    """An executor that records each trial's wall clock."""

    def __init__(self, inner: Any):
        self.inner, self.name, self.times = inner, inner.name, []

    async def __aenter__(self) -> "Timed":
        started = time.perf_counter()
        await self.inner.__aenter__()
        self.connect_sec = time.perf_counter() - started
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.inner.__aexit__(*exc)

    def slot(self) -> Any:
        return self.inner.slot()

    async def run_trial(self, config, paths, **kwargs):
        started = time.perf_counter()
        result = await self.inner.run_trial(config, paths, **kwargs)
        self.times.append(time.perf_counter() - started)
        return result


def run(executor: Timed, jobs: Path, job: str, trials: int) -> dict[str, float | None]:
    configs = job_configs(job=job, domain="arith", meta_agent="baseline", meta_agent_options={"baseline": "strong"},
                          seeds=trials, suffix="-strong", task_model=TaskModelSpec.parse("sim"),
                          budget=budget_preset("smoke", Budget()))
    results = asyncio.run(run_job(JobPaths(jobs, job), configs, concurrency=1, executor=executor))
    return {r.trial: r.test.accuracy if r.test else None for r in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=8)
    args = parser.parse_args()
    from mac.trial.executors.ray import RayExecutor

    jobs = Path(tempfile.mkdtemp(prefix="mac-bench-executor-"))
    try:
        local = Timed(LocalExecutor(1))
        local_scores = run(local, jobs, "local", args.trials)
        with LocalRayCluster(nodes=2) as cluster:
            os.environ.update({k: v for k, v in cluster.env.items() if k.startswith("RAY_")})
            idle = (cluster.rss_mb(0), cluster.rss_mb(1))
            ray = Timed(RayExecutor(cluster.address, concurrency=1))
            ray_scores = run(ray, jobs, "ray", args.trials)
            after = (cluster.rss_mb(0), cluster.rss_mb(1))
    finally:
        shutil.rmtree(jobs, ignore_errors=True)
    if ray_scores != local_scores:
        raise SystemExit(f"scores differ: local {local_scores} ray {ray_scores}")
    local_median, ray_median = statistics.median(local.times), statistics.median(ray.times)
    print(f"{args.trials} sim trials one at a time, same scores on both executors")
    print(f"local: median {local_median:.2f} s per trial")
    print(f"ray:   median {ray_median:.2f} s per trial (connecting to the cluster, once per job: {ray.connect_sec:.1f} s)")
    print(f"per-trial ratio ray/local: {ray_median / local_median:.2f}x (target <= 1.2x)")
    print(f"RSS head:        {idle[0]:.0f} MB idle, {after[0]:.0f} MB after the job")
    print(f"RSS second node: {idle[1]:.0f} MB idle, {after[1]:.0f} MB after the job")


if __name__ == "__main__":
    main()
