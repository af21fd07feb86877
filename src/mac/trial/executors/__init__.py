"""Executors: where a job's trials run. `local` (this process, an asyncio pool) or `ray` (a Ray cluster).

This package sits inside `mac.trial` (it composes trials: `run_trial`, `plan_trial`); `mac.trial.job` takes an
executor, and `mac.cli` picks one from the job spec (`executor`, `ray_address`, `ray_shared_fs`).

    async with make_executor(spec_or_none, concurrency=2) as executor:
        async with executor.slot():                      # at most `concurrency` trials at once
            result = await executor.run_trial(config, paths, progress=p, index=index, resume=plan)

Contract of `run_trial` (both executors): the trial runs to its end (or is continued from `resume`, a plan made
from the job's own copy of the trial folder); its files end up in `paths.dir` on this machine, the index row is
up to date, and the TrialResult is returned. It never raises for a failing trial, only on cancellation, and then
the trial is saved as "interrupted" first (`mac run --resume` continues it). `progress` is kept current.
Under the sim, a trial gives the same scores on every executor (only the job spec goes to a worker).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, Literal, Protocol
from collections.abc import AsyncIterator

from mac.store.index import Index
from mac.store.models import TrialConfig, TrialResult
from mac.store.paths import TrialPaths
from mac.trial.progress import TrialProgress

if TYPE_CHECKING:
    from mac.trial.resume import ResumePlan

ExecutorName = Literal["local", "ray"]
EXECUTORS: tuple[str, ...] = ("local", "ray")


class Executor(Protocol):
    """Runs trials; an async context manager around a job (starts and stops what it needs)."""

    name: str

    async def __aenter__(self) -> Executor: ...

    async def __aexit__(self, *exc: Any) -> None: ...

    def slot(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """Held while one trial runs: bounds how many run at once."""
        ...

    async def run_trial(self, config: TrialConfig, paths: TrialPaths, *, progress: TrialProgress,
                        index: Index | None, resume: ResumePlan | None = None) -> TrialResult:
        """Run (or, with `resume`, continue) one trial; see the module docstring."""
        ...


class LocalExecutor:
    """Trials in this process: an asyncio semaphore of `concurrency` slots around `mac.trial.lifecycle.run_trial`."""

    name = "local"

    def __init__(self, concurrency: int = 2):
        self.concurrency = max(1, concurrency)
        self._limit: asyncio.Semaphore | None = None

    async def __aenter__(self) -> LocalExecutor:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._limit is None:  # made on the running loop
            self._limit = asyncio.Semaphore(self.concurrency)
        async with self._limit:
            yield

    async def run_trial(self, config: TrialConfig, paths: TrialPaths, *, progress: TrialProgress,
                        index: Index | None, resume: ResumePlan | None = None) -> TrialResult:
        from mac.trial.lifecycle import run_trial

        return await run_trial(config, paths, progress=progress, index=index, resume=resume)


def make_executor(spec: Any, concurrency: int) -> Executor:
    """The executor a job spec names (None or a spec without the field: local)."""
    name = getattr(spec, "executor", "local") if spec is not None else "local"
    if name == "ray":
        from mac.trial.executors.ray import RayExecutor

        return RayExecutor(address=spec.ray_address, concurrency=concurrency, shared_fs=spec.ray_shared_fs)
    return LocalExecutor(concurrency)


__all__ = ["EXECUTORS", "Executor", "ExecutorName", "LocalExecutor", "make_executor"]
