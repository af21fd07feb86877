"""A job: trials run concurrently (asyncio) under a concurrency limit, indexed in jobs/index.sqlite.

    configs = job_configs(job="j1", domain="arith", meta_agent="reference", seeds=3, ...)
    results = await run_job(JobPaths(jobs_dir, "j1"), configs, concurrency=2, progress=progress_by_trial)
    results = await resume_job(JobPaths(jobs_dir, "j1"), concurrency=2)   # after the controller died

One controller at a time per job: it holds an flock on <job>/job.lock (released by the kernel when the process
dies, even by SIGKILL), so a resume can never race a controller that still runs the job.
"""

from __future__ import annotations

import asyncio
import json
import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import Any, Iterator

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
                first_seed: int = 0, suffix: str = "", test_seed_file: Path | None = None) -> list[TrialConfig]:
    """One TrialConfig per seed; the sim's seed follows the trial's seed so seeds give independent samples.
    A generated test split's seed file (`test_seed_file`, default the install's) is recorded with its fingerprint."""
    from mac.domains.base import get_domain
    from mac.domains.testseed import seed_for

    if sandbox == "none":
        raise ConfigError("sandbox 'none' isolates nothing and is refused for trials: use --sandbox bwrap")
    test_seed = seed_for(get_domain(domain), Path(data) if data else None, test_seed_file)
    configs = []
    for seed in range(first_seed, first_seed + seeds):
        configs.append(TrialConfig(
            job=check_name(job, "job"), trial=trial_name(domain, meta_agent, seed, suffix), domain=domain, data=data,
            meta_agent=meta_agent, meta_agent_options=dict(meta_agent_options or {}), seed=seed,
            test_seed_file=str(test_seed.path) if test_seed else None,
            test_seed_fingerprint=test_seed.fingerprint if test_seed else None,
            task_model=task_model.model_copy(update={"seed": seed}), budget=budget, sandbox=sandbox))
    return configs


@contextlib.contextmanager
def job_lock(job: JobPaths) -> Iterator[None]:
    """Hold <job>/job.lock for the life of this controller; ConfigError when another process holds it."""
    job.dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(job.dir / "job.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise ConfigError(f"job {job.job!r} is being run by another controller (pid {owner}): wait for it to "
                              "end, or stop it, first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


async def run_job(job: JobPaths, configs: list[TrialConfig], *, concurrency: int = 2,
                  progress: dict[str, TrialProgress] | None = None) -> list[TrialResult]:
    """Run every trial (at most `concurrency` at once); results in the order of `configs`. Never raises for a
    failing trial: its result says what went wrong."""
    with job_lock(job):
        return await _run_job(job, configs, concurrency, progress)


async def _run_job(job: JobPaths, configs: list[TrialConfig], concurrency: int,
                   progress: dict[str, TrialProgress] | None) -> list[TrialResult]:
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


def find_job(job: str, jobs_dir: Path) -> JobPaths:
    """`job` as a job folder path (holding job.json) or a job name under `jobs_dir`."""
    as_path = Path(job)
    if (as_path / "job.json").is_file():
        as_path = as_path.resolve()
        return JobPaths(as_path.parent, as_path.name)
    paths = JobPaths(Path(jobs_dir).resolve(), check_name(job, "job"))
    if not paths.job_json.is_file():
        raise ConfigError(f"no job {job!r}: {paths.job_json} does not exist; pass the job folder or its name "
                          "with --jobs-dir")
    return paths


def saved_configs(job: JobPaths) -> list[TrialConfig]:
    """The job's trial configs: each trial's config.json where it was written, else the one in job.json."""
    listed = json.loads(job.job_json.read_text(encoding="utf-8")).get("trials", [])
    configs = []
    for entry in listed:
        config = TrialConfig.model_validate(entry)
        own = job.trial(config.trial).config
        configs.append(TrialConfig.model_validate_json(own.read_text(encoding="utf-8")) if own.is_file() else config)
    return configs


async def resume_job(job: JobPaths, *, concurrency: int = 2,
                     progress: dict[str, TrialProgress] | None = None) -> list[TrialResult]:
    """Continue a job whose controller died (see mac.trial.resume): finished trials are kept untouched, the
    others pick up from their last completed phase. Results in the job's trial order."""
    from mac.trial.resume import plan_trial, recover_workspace

    with job_lock(job):
        configs = saved_configs(job)
        index = Index(job.index)
        index.record_job(job.job, options={"trials": [c.trial for c in configs], "concurrency": concurrency,
                                           "resumed_at": time.time()})
        progress = progress if progress is not None else {}
        plans = {c.trial: plan_trial(job.trial(c.trial), c) for c in configs}
        limit = asyncio.Semaphore(max(1, concurrency))

        async def one(config: TrialConfig) -> TrialResult:
            paths, plan = job.trial(config.trial), plans[config.trial]
            state = progress.setdefault(config.trial, TrialProgress(config.trial, meta_agent=config.meta_agent,
                                                                   seed=config.seed))
            if plan.policy == "keep":
                await asyncio.to_thread(recover_workspace, paths, plan)  # only drops a stale scratch folder
                result = TrialResult.load(paths.result)
                index.record_trial(result, paths.dir)  # the row may predate the last write of a dying controller
                state.phase, state.status = "done", result.status
                state.test = result.test.accuracy if result.test else None
                return result
            async with limit:
                await asyncio.to_thread(recover_workspace, paths, plan)
                state.dev_evals = plan.dev_evals_before
                return await run_trial(config, paths, progress=state, index=index, resume=plan)

        return list(await asyncio.gather(*(one(c) for c in configs)))
