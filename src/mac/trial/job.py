"""A job: trials run concurrently (asyncio) under a concurrency limit, indexed in jobs/index.sqlite.

    configs = job_configs(job="j1", domain="arith", meta_agent="reference", seeds=3, ...)
    results = await run_job(JobPaths(jobs_dir, "j1"), configs, concurrency=2, progress=progress_by_trial)
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mac.config import Budget, TaskModelSpec
from mac.errors import ConfigError
from mac.store.atomic import write_json_atomic
from mac.store.index import Index
from mac.store.models import TrialConfig, TrialResult
from mac.store.paths import JobPaths, check_name
from mac.trial.lifecycle import run_trial
from mac.trial.progress import TrialProgress


def default_job_name(label: str) -> str:
    return check_name(f"{time.strftime('%Y%m%d-%H%M%S')}-{label}"[:120], "job")


def trial_name(domain: str, meta_agent: str, seed: int, suffix: str = "") -> str:
    return check_name(f"{domain}-{meta_agent}{suffix}-s{seed}", "trial")


def job_configs(*, job: str, domain: str, meta_agent: str, seeds: int, task_model: TaskModelSpec, budget: Budget,
                meta_agent_options: dict[str, Any] | None = None, data: str | None = None, sandbox: str = "bwrap",
                first_seed: int = 0, suffix: str = "") -> list[TrialConfig]:
    """One TrialConfig per seed; the sim's seed follows the trial's seed so seeds give independent samples."""
    if sandbox == "none":
        raise ConfigError("sandbox 'none' isolates nothing and is refused for trials: use --sandbox bwrap")
    configs = []
    for seed in range(first_seed, first_seed + seeds):
        configs.append(TrialConfig(
            job=check_name(job, "job"), trial=trial_name(domain, meta_agent, seed, suffix), domain=domain, data=data,
            meta_agent=meta_agent, meta_agent_options=dict(meta_agent_options or {}), seed=seed,
            task_model=task_model.model_copy(update={"seed": seed}), budget=budget, sandbox=sandbox))
    return configs


async def run_job(job: JobPaths, configs: list[TrialConfig], *, concurrency: int = 2,
                  progress: dict[str, TrialProgress] | None = None) -> list[TrialResult]:
    """Run every trial (at most `concurrency` at once); results in the order of `configs`. Never raises for a
    failing trial: its result says what went wrong."""
    job.dir.mkdir(parents=True, exist_ok=True)
    index = Index(job.index)
    index.record_job(job.job, options={"trials": [c.trial for c in configs], "concurrency": concurrency})
    write_json_atomic(job.job_json, {"job": job.job, "created_at": time.time(), "concurrency": concurrency,
                                     "trials": [c.model_dump(mode="json") for c in configs]})
    progress = progress if progress is not None else {}
    for config in configs:
        progress.setdefault(config.trial, TrialProgress(config.trial, meta_agent=config.meta_agent, seed=config.seed))
    limit = asyncio.Semaphore(max(1, concurrency))

    async def one(config: TrialConfig) -> TrialResult:
        async with limit:
            return await run_trial(config, job.trial(config.trial), progress=progress[config.trial], index=index)

    return list(await asyncio.gather(*(one(c) for c in configs)))
