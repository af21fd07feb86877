"""A job: trials run concurrently (asyncio) under a concurrency limit, indexed in jobs/index.sqlite.

    configs = trial_configs(spec)                        # mac.trial.jobspec; or job_configs(job="j1", ...)
    results = await run_job(JobPaths(jobs_dir, "j1"), configs, concurrency=2, progress=progress_by_trial, spec=spec)
    results = await resume_job(JobPaths(jobs_dir, "j1"), concurrency=2)   # after the controller died
    results = await resume_job(JobPaths(jobs_dir, "j1"), seeds=5)         # ... and run the seeds it lacks

job.json holds the job's JobSpec (jobs made by `mac run`) and its trial list, each trial's config as it was made.

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
from typing import Any
from collections.abc import Iterator

from mac.errors import ConfigError, StoreError
from mac.store.atomic import write_json_atomic
from mac.store.index import Index
from mac.store.models import TrialConfig, TrialResult, parse_stored
from mac.store.paths import JobPaths, check_name
from mac.trial.jobspec import (  # noqa: F401 - job_configs, trial_name, default_job_name: used from here too
    SEEDS_MAX, JobSpec, config_for_seed, default_job_name, job_configs, trial_name, validation_message)
from mac.trial.executors import Executor, make_executor
from mac.trial.progress import TrialProgress
from mac.trash import sweep


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


def job_running(job: JobPaths) -> int | None:
    """The pid of the controller running `job` now (it holds job.lock), -1 if unknown, None when none runs it."""
    try:
        fd = os.open(job.dir / "job.lock", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip()
            return int(owner) if owner.isdigit() else -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


async def run_job(job: JobPaths, configs: list[TrialConfig], *, concurrency: int = 2,
                  progress: dict[str, TrialProgress] | None = None, spec: JobSpec | None = None,
                  executor: Executor | None = None) -> list[TrialResult]:
    """Run every trial (at most `concurrency` at once); results in the order of `configs`. Never raises for a
    failing trial: its result says what went wrong. `spec`, the JobSpec the configs came from, is stored in
    job.json (what `mac run --resume` continues from). `executor`: where trials run (default: the one `spec`
    names, else this process; mac.trial.executors)."""
    with job_lock(job):
        sweep()  # what an earlier controller left to delete
        async with executor or make_executor(spec, concurrency) as running:
            return await _run_job(job, configs, concurrency, progress, spec, running)


async def _run_job(job: JobPaths, configs: list[TrialConfig], concurrency: int,
                   progress: dict[str, TrialProgress] | None, spec: JobSpec | None,
                   executor: Executor) -> list[TrialResult]:
    index = Index(job.index)
    index.record_job(job.job, options=_index_options(configs, concurrency, spec))
    write_job_json(job, configs, spec, concurrency=concurrency)
    progress = progress if progress is not None else {}
    for config in configs:
        progress.setdefault(config.trial, TrialProgress(config.trial, meta_agent=config.meta_agent, seed=config.seed))

    async def one(config: TrialConfig) -> TrialResult:
        async with executor.slot():
            return await executor.run_trial(config, job.trial(config.trial), progress=progress[config.trial],
                                            index=index)

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


def write_job_json(job: JobPaths, configs: list[TrialConfig], spec: JobSpec | None, *,
                   concurrency: int, created_at: float | None = None) -> None:
    write_json_atomic(job.job_json, {
        "job": job.job, "created_at": created_at or time.time(), "concurrency": concurrency,
        "spec": spec.model_dump(mode="json") if spec is not None else None,
        "trials": [c.model_dump(mode="json") for c in configs]})


def _index_options(configs: list[TrialConfig], concurrency: int, spec: JobSpec | None) -> dict[str, Any]:
    options: dict[str, Any] = {"trials": [c.trial for c in configs], "concurrency": concurrency}
    if spec is not None:
        options.update(domain=spec.domain, meta_agent=spec.meta_agent, seeds=spec.seeds, task_model=spec.task_model)
    return options


def read_job_json(job: JobPaths) -> dict[str, Any]:
    try:
        data = json.loads(job.job_json.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{job.job_json} cannot be read ({exc}): the job folder is damaged") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{job.job_json} is not a job file (no JSON object): the job folder is damaged")
    return data


def stored_spec(job: JobPaths) -> JobSpec | None:
    """The JobSpec the job was made from (None: a job of `mac demo`, `mac redteam` or an older version)."""
    data = read_job_json(job).get("spec")
    if data is None:
        return None
    try:
        return JobSpec.model_validate(data)
    except ValueError as exc:
        raise ConfigError(f"{job.job_json}: the stored job spec is invalid: {validation_message(exc)}") from None


def saved_configs(job: JobPaths) -> list[TrialConfig]:
    """The job's trial configs: each trial's config.json where it was written, else the one in job.json."""
    try:
        listed = read_job_json(job).get("trials", [])
    except AttributeError:
        raise StoreError(f"{job.job_json} lists no trials: the job cannot be resumed") from None
    configs = []
    for number, entry in enumerate(listed, 1):
        config = parse_stored(TrialConfig, entry, f"{job.job_json} (trial {number})")
        own = job.trial(config.trial).config
        configs.append(TrialConfig.load(own) if own.is_file() else config)
    return configs


def added_seed_configs(job: JobPaths, seeds: int | None) -> list[TrialConfig]:
    """The configs of the seeds `seeds` adds to the job (seeds first_seed .. first_seed+seeds-1 in all); each is
    an existing trial's config with another seed, so every trial of the job has the same settings."""
    if seeds is None:
        return []
    if not 1 <= seeds <= SEEDS_MAX:
        raise ConfigError(f"--seeds must be between 1 and {SEEDS_MAX} (got {seeds})")
    spec = stored_spec(job)
    if spec is None:
        raise ConfigError(f"job {job.job!r} has no stored job spec (made by `mac demo`, `mac redteam` or an older "
                          "mac): seeds can only be added to a job made by `mac run`")
    listed = {c.seed: c for c in saved_configs(job) if c.meta_agent == spec.meta_agent}
    if seeds < len(listed):
        raise ConfigError(f"job {job.job!r} already has {len(listed)} seeds: --seeds N with --resume adds seeds up "
                          f"to N in all, it never removes any")
    if not listed:
        raise ConfigError(f"job {job.job!r} lists no trial of {spec.meta_agent!r} to add seeds to")
    template = next(iter(listed.values()))
    wanted = range(spec.first_seed, spec.first_seed + seeds)
    return [config_for_seed(template, seed, spec.suffix) for seed in wanted if seed not in listed]


async def resume_job(job: JobPaths, *, concurrency: int = 2, progress: dict[str, TrialProgress] | None = None,
                     seeds: int | None = None, retry_failed: bool = False,
                     executor: Executor | None = None) -> list[TrialResult]:
    """Continue a job whose controller died (see mac.trial.resume): finished trials are kept untouched, the
    others pick up from their last completed phase. `seeds`: also run the seeds the job lacks, up to that many
    in all (they are added to job.json). With `retry_failed`, "failed" and "infrastructure_error" trials run
    again from the start. `executor`: where trials run (default: the one the stored spec names). Results in the
    job's trial order."""
    with job_lock(job):
        sweep()
        spec = stored_spec(job)
        async with executor or make_executor(spec, concurrency) as running:
            return await _resume_job(job, concurrency, progress, seeds, retry_failed, running)


async def _resume_job(job: JobPaths, concurrency: int, progress: dict[str, TrialProgress] | None,
                      seeds: int | None, retry_failed: bool, executor: Executor) -> list[TrialResult]:
    from mac.trial.resume import plan_trial, recover_workspace

    configs = saved_configs(job)
    added = added_seed_configs(job, seeds)
    spec = stored_spec(job)
    if added:
        configs += added
        spec = spec.model_copy(update={"seeds": seeds}) if spec is not None else None
        write_job_json(job, configs, spec, concurrency=concurrency,
                       created_at=read_job_json(job).get("created_at"))
    index = Index(job.index)
    index.record_job(job.job, options={**_index_options(configs, concurrency, spec), "resumed_at": time.time()})
    progress = progress if progress is not None else {}
    plans = {c.trial: plan_trial(job.trial(c.trial), c, retry_failed=retry_failed) for c in configs}
    fresh = {c.trial for c in added}

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
        async with executor.slot():
            if config.trial in fresh:  # a seed added now: a new trial, not a resumed one
                return await executor.run_trial(config, paths, progress=state, index=index)
            await asyncio.to_thread(recover_workspace, paths, plan)
            state.dev_evals = plan.dev_evals_before
            return await executor.run_trial(config, paths, progress=state, index=index, resume=plan)

    return list(await asyncio.gather(*(one(c) for c in configs)))
