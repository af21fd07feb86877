"""Past jobs as data: the list (`mac jobs`), one job or one trial (`mac show`), and stale scratch (`mac clean`).

    summaries = list_jobs(jobs_dir)                 # from jobs/index.sqlite, newest first
    job = job_overview(find_job("j1", jobs_dir))    # its spec, each trial's result (or why it has none)
    cleaned = clean_scratch(jobs_dir)               # scratch folders of jobs no controller runs any more

A job is "running" while a controller holds its job.lock; the index alone cannot say that (a controller killed
with SIGKILL leaves its trials "running" there).
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from mac.errors import ConfigError, MacError
from mac.store.index import Index
from mac.store.models import TrialConfig, TrialResult
from mac.store.paths import JobPaths, TrialPaths
from mac.trial.job import find_job, job_lock, job_running, saved_configs, stored_spec

JobStatus = Literal["running", "interrupted", "completed", "failed", "empty"]


class JobSummary(BaseModel):
    """One row of `mac jobs`."""

    job: str
    dir: str
    created_at: float
    status: JobStatus
    """running (a controller holds it), interrupted (unfinished trials: `mac run --resume`), completed (every
    trial), failed (some trial failed), empty (no trial recorded)."""
    trials: int = 0
    statuses: dict[str, int] = Field(default_factory=dict)
    domains: list[str] = Field(default_factory=list)
    meta_agents: list[str] = Field(default_factory=list)
    task_models: list[str] = Field(default_factory=list)
    simulated: bool = False
    mean_test: float | None = None
    """Mean test accuracy of the completed trials not judged CHEATING (None: none)."""
    controller_pid: int | None = None


def list_jobs(jobs_dir: Path) -> list[JobSummary]:
    """Every job of the index of `jobs_dir`, newest first. ConfigError when there is no index there."""
    index_path = JobPaths(Path(jobs_dir), "_").index
    if not index_path.is_file():
        raise ConfigError(f"no jobs in {jobs_dir} (no index.sqlite): pass --jobs-dir DIR, the folder `mac run` "
                          "wrote to, or --reindex to rebuild the index from its job folders")
    index = Index(index_path)
    trials: dict[str, list[dict[str, Any]]] = {}
    for row in index.trials():
        trials.setdefault(row["job"], []).append(row)
    summaries = [_summary(JobPaths(Path(jobs_dir), row["job"]), row, trials.get(row["job"], []))
                 for row in index.jobs()]
    return sorted(summaries, key=lambda s: s.created_at, reverse=True)


def _summary(paths: JobPaths, job_row: dict[str, Any], rows: list[dict[str, Any]]) -> JobSummary:
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    scores = [row["test_accuracy"] for row in rows if row["status"] == "completed"
              and row["test_accuracy"] is not None and row["integrity_verdict"] != "CHEATING"]
    options = job_row.get("options") or {}
    pid = job_running(paths)
    return JobSummary(
        job=job_row["job"], dir=str(paths.dir), created_at=job_row["created_at"],
        status=_job_status(statuses, pid), trials=len(rows), statuses=statuses,
        domains=sorted({row["domain"] for row in rows} or ([options["domain"]] if options.get("domain") else [])),
        meta_agents=sorted({row["meta_agent"] for row in rows} or
                           ([options["meta_agent"]] if options.get("meta_agent") else [])),
        task_models=sorted({row["task_model"] for row in rows}), simulated=any(row["simulated"] for row in rows),
        mean_test=round(statistics.mean(scores), 2) if scores else None, controller_pid=pid)


def _job_status(statuses: dict[str, int], controller_pid: int | None) -> JobStatus:
    if controller_pid is not None:
        return "running"
    if not statuses:
        return "empty"
    if statuses.get("running") or statuses.get("interrupted"):
        return "interrupted"
    return "completed" if set(statuses) == {"completed"} else "failed"


class TrialEntry(BaseModel):
    """One trial of a job as `mac show` prints it: its result, or why there is none."""

    trial: str
    dir: str
    config: TrialConfig | None = None
    result: TrialResult | None = None
    problem: str | None = None
    """Why there is no result: not started yet, or an unreadable result.json (and what is wrong with it)."""


class JobOverview(BaseModel):
    job: str
    dir: str
    spec: dict[str, Any] | None = None
    """The stored JobSpec (None: a job of `mac demo`, `mac redteam` or an older mac)."""
    controller_pid: int | None = None
    trials: list[TrialEntry] = Field(default_factory=list)


def job_overview(paths: JobPaths) -> JobOverview:
    spec = stored_spec(paths)
    entries = [load_trial(paths.trial(config.trial), config) for config in saved_configs(paths)]
    return JobOverview(job=paths.job, dir=str(paths.dir), spec=spec.model_dump(mode="json") if spec else None,
                       controller_pid=job_running(paths), trials=entries)


def load_trial(paths: TrialPaths, config: TrialConfig | None = None) -> TrialEntry:
    entry = TrialEntry(trial=paths.name, dir=str(paths.dir), config=config)
    try:
        if paths.config.is_file():
            entry.config = TrialConfig.model_validate_json(paths.config.read_text(encoding="utf-8"))
        if not paths.result.is_file():
            entry.problem = "not started (no result.json)"
        else:
            entry.result = TrialResult.load(paths.result)
    except (OSError, ValueError) as exc:
        entry.problem = f"unreadable: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return entry


def resolve_target(target: str, jobs_dir: Path) -> tuple[JobPaths, str | None]:
    """`mac show` arguments: a job (name or folder) or a trial (JOB/TRIAL, or a trial folder)."""
    as_path = Path(target)
    if (as_path / "job.json").is_file():
        return find_job(target, jobs_dir), None
    if (as_path / "config.json").is_file() and (as_path.parent / "job.json").is_file():
        return find_job(str(as_path.parent), jobs_dir), as_path.name
    job, _, trial = target.partition("/")
    paths = find_job(job, jobs_dir)
    if trial and not paths.trial(trial).dir.is_dir():
        raise ConfigError(f"job {paths.job!r} has no trial {trial!r}; its trials: "
                          f"{', '.join(c.trial for c in saved_configs(paths)) or 'none'}")
    return paths, trial or None


class CleanedScratch(BaseModel):
    job: str
    trial: str
    scratch: str
    bytes: int = 0
    removed: bool = False
    note: str = ""


def clean_scratch(jobs_dir: Path, *, dry_run: bool = False) -> list[CleanedScratch]:
    """Remove the scratch folders that trials of jobs no controller runs any more left behind (a killed controller
    leaves them). Like a resume, a live workspace found there is copied back into the trial's workspace/ and a cut
    session's tool log kept in trajectory/ first, so `mac run --resume` still continues from it. A job whose
    controller is alive is never touched (its job lock is held while cleaning, so none can start meanwhile)."""
    cleaned: list[CleanedScratch] = []
    for job_dir in sorted(p for p in Path(jobs_dir).iterdir() if (p / "job.json").is_file()):
        paths = JobPaths(Path(jobs_dir).resolve(), job_dir.name)
        try:
            with job_lock(paths):
                cleaned += _clean_job(paths, dry_run)
        except ConfigError:
            continue  # a controller runs it: its scratch folders are in use
    return cleaned


def _clean_job(paths: JobPaths, dry_run: bool) -> list[CleanedScratch]:
    from mac.trial.resume import is_own_scratch, plan_trial, recover_workspace

    found = []
    for trial_dir in sorted(p for p in paths.dir.iterdir() if (p / "result.json").is_file()):
        trial = TrialPaths(trial_dir)
        try:
            result = TrialResult.load(trial.result)
            config = TrialConfig.model_validate_json(trial.config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        scratch = Path(result.scratch) if result.scratch else None
        if scratch is None or not scratch.is_dir() or not is_own_scratch(scratch):
            continue
        item = CleanedScratch(job=paths.job, trial=trial.name, scratch=str(scratch), bytes=_size(scratch))
        if not dry_run:
            try:
                plan = plan_trial(trial, config)
                recover_workspace(trial, plan)
                item.note = f"workspace recovered ({plan.policy})" if plan.recovered_workspace else ""
            except (MacError, OSError) as exc:
                item.note = f"left in place: {exc}"
            item.removed = not scratch.exists()
        found.append(item)
    return found


def _size(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total

