"""The Ray executor (controller side): each trial is one Ray actor (mac.trial.executors.worker.TrialWorker).

    async with RayExecutor(address="auto", concurrency=8) as executor:   # None: a Ray on this machine
        result = await executor.run_trial(config, paths, progress=p, index=index)

- Placement: an actor runs one trial at a time and, when that trial ended cleanly, the next one (so a trial
  seldom pays for a new worker process), unless a new actor is waiting for resources then (an idle actor holds
  its resources: it is killed to free them); every actor asks for `mac_sandbox: 1` (a custom resource that only nodes started through
  `mac ray start`, or the local Ray this executor starts, have: bubblewrap was checked there), the CPUs of the
  meta-agent's sandbox (`budget.dev_limits.cpus`) and its memory (`budget.dev_limits.memory_mb`).
- Files: the controller writes config.json itself, sends the trial's state (a resume's starting point) and the
  ground truth the trusted side needs (the arith test seed, a data folder) through the object store, then polls
  the actor every POLL_SEC for progress and changed files, which it verifies (sha256) and writes atomically into
  the job's trial folder (mac.trial.executors.stream); each new result.json updates the index here.
  With `shared_fs`, the worker writes the job's trial folder in place and only progress travels.
- Node death (RayActorError, WorkerCrashedError, NodeDiedError, ...): the trial is marked interrupted in the
  controller's copy, planned with `mac.trial.resume.plan_trial` like a local resume (completed phases kept,
  development continued with the time left, a finished trial kept as it is) and run again on another node, at
  most MAX_ATTEMPTS times in all. Each attempt adds two lines to the trial's executor.jsonl ("started": on which
  node; "ended": its outcome), written by the controller.
- Cancellation (Ctrl-C, SIGTERM): the actor is asked to stop (its trial saves itself as interrupted and its
  sandboxes die), its last files are taken, then it is killed; the cancellation goes on up to `mac run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import AsyncIterator

from mac.errors import ConfigError, MacError, StoreError
from mac.records import Usage
from mac.store.atomic import append_jsonl, write_json_atomic
from mac.store.index import Index
from mac.store.models import TrialConfig, TrialResult
from mac.store.paths import TrialPaths
from mac.trial.executors.stream import FolderReceiver
from mac.trial.progress import TrialProgress

if TYPE_CHECKING:
    from mac.trial.resume import ResumePlan

POLL_SEC = 1.0
MAX_ATTEMPTS = 3
"""Runs of one trial in one job run (the first and the resumes after node deaths)."""
STOP_SEC = 90.0
EXECUTOR_LOG = "executor.jsonl"
INSTALL_HINT = "pip install 'mac-bench[ray]'"


def import_ray() -> Any:
    """The `ray` module, or a ConfigError naming the install command."""
    try:
        import ray
    except ImportError:
        raise ConfigError(f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, *, concurrency: int = 2, shared_fs: bool = False,
                 num_cpus: int | None = None):
        self.address, self.shared_fs = address, shared_fs
        self.concurrency, self.num_cpus = max(1, concurrency), num_cpus
        self._limit: asyncio.Semaphore | None = None
        self._actor_class: Any = None
        self._idle: dict[str, list[Any]] = {}
        """Actors whose trial ended cleanly, by placement: the next trial reuses one (no new worker process)."""
        self._placing = 0
        """New actors not placed yet: while any waits, an idle actor is killed instead (it holds resources)."""
        self._started_env: dict[str, str | None] = {}
        self.ray = import_ray()

    async def __aenter__(self) -> RayExecutor:
        from mac.trial.executors.cluster import connect

        self._started_env = connect(self.ray, self.address, num_cpus=self.num_cpus)
        from mac.trial.executors.worker import TrialWorker

        self._actor_class = self.ray.remote(max_restarts=0, max_concurrency=8)(TrialWorker)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._drop_idle()
        self.ray.shutdown()
        for key, value in self._started_env.items():  # what connect() set for a Ray of its own
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._limit is None:
            self._limit = asyncio.Semaphore(self.concurrency)
        async with self._limit:
            yield

    async def run_trial(self, config: TrialConfig, paths: TrialPaths, *, progress: TrialProgress,
                        index: Index | None, resume: ResumePlan | None = None) -> TrialResult:
        paths.dir.mkdir(parents=True, exist_ok=True)
        if resume is None or not paths.config.exists():
            write_json_atomic(paths.config, config)
        progress.status, progress.started_at = "running", time.time()
        plan = resume
        for attempt in range(1, MAX_ATTEMPTS + 1):
            outcome = await self._attempt(config, paths, progress, index, plan, attempt)
            if outcome == "done":
                return self._finished(paths, progress, index)
            plan = await asyncio.to_thread(_replan, paths, config)  # the node died: resume from our copy
            if plan.policy == "keep":
                return self._finished(paths, progress, index)
            progress.dev_evals = plan.dev_evals_before
        return _give_up(paths, config, progress, index)

    async def _attempt(self, config: TrialConfig, paths: TrialPaths, progress: TrialProgress,
                       index: Index | None, plan: ResumePlan | None, attempt: int) -> str:
        """One actor's run of the trial: "done", or "lost" when its node or worker died."""
        ray = self.ray
        placement = self._placement(config)
        key = json.dumps(placement, sort_keys=True)
        pool = self._idle.setdefault(key, [])
        fresh = not pool
        if fresh:  # idle actors of another shape would hold resources this one may need
            self._drop_idle(keep=key)
        actor = pool.pop() if pool else self._actor_class.options(**placement).remote()
        reusable = False
        self._placing += fresh
        log: dict[str, Any] = {"attempt": attempt, "started_at": time.time(),
                               "policy": plan.policy if plan is not None else "new"}
        receiver = None if self.shared_fs else FolderReceiver(paths.dir)
        lost: tuple[type[BaseException], ...] = (*_lost_errors(ray), StoreError)  # StoreError: a damaged stream
        try:
            try:
                log.update(await actor.node.remote())
            finally:
                self._placing -= fresh
                fresh = False
            with contextlib.suppress(OSError):
                append_jsonl(paths.dir / EXECUTOR_LOG, {**log, "event": "started"})
            state = {} if self.shared_fs or plan is None else await asyncio.to_thread(_pack_state, paths)
            # shared storage: the same paths everywhere; else read off the loop (a data folder may be large)
            secrets = {} if self.shared_fs else await asyncio.to_thread(_secrets, config)
            run = asyncio.ensure_future(_await(actor.run.remote(
                config, plan, state, secrets, str(paths.dir) if self.shared_fs else None)))
            try:
                while not run.done():
                    await asyncio.wait({run}, timeout=POLL_SEC)
                    await self._poll(actor, receiver, paths, progress, index)
                await run
                await self._drain(actor, receiver, paths, progress, index)
            except asyncio.CancelledError:
                await asyncio.shield(self._stop(actor, receiver, paths, progress, index, run))
                raise
            log["outcome"], reusable = "done", True
            return "done"
        except lost as exc:  # our copy of the folder is resumed
            log["outcome"] = f"lost: {type(exc).__name__}"
            self._drop_idle()  # some may have been on the node that died
            return "lost"
        finally:
            log["ended_at"] = time.time()
            with contextlib.suppress(OSError):
                append_jsonl(paths.dir / EXECUTOR_LOG, {**log, "event": "ended"})
            if reusable and not self._placing:
                pool.append(actor)
            else:
                with contextlib.suppress(Exception):
                    ray.kill(actor, no_restart=True)

    def _drop_idle(self, keep: str | None = None) -> None:
        for key, pool in self._idle.items():
            if key != keep:
                for actor in pool:
                    with contextlib.suppress(Exception):
                        self.ray.kill(actor, no_restart=True)
                pool.clear()

    def _placement(self, config: TrialConfig) -> dict[str, Any]:
        limits = config.budget.dev_limits
        return {"num_cpus": limits.cpus, "memory": limits.memory_mb << 20, "resources": {"mac_sandbox": 1}}

    async def _poll(self, actor: Any, receiver: FolderReceiver | None, paths: TrialPaths,
                    progress: TrialProgress, index: Index | None, final: bool = False) -> bool:
        answer = await actor.poll.remote(final=final)
        if answer["progress"] is not None:
            _update_progress(progress, answer["progress"])
        if receiver is not None and answer["chunks"]:
            written = await asyncio.to_thread(receiver.apply, answer["chunks"])
            if "result.json" in written and index is not None:
                with contextlib.suppress(MacError, OSError, ValueError):
                    index.record_trial(TrialResult.load(paths.result), paths.dir)
        return bool(answer["more"])

    async def _drain(self, actor: Any, receiver: FolderReceiver | None, paths: TrialPaths,
                     progress: TrialProgress, index: Index | None) -> None:
        """Take every file the worker still has, then let it remove its folders."""
        more = await self._poll(actor, receiver, paths, progress, index, final=True)
        while more:
            more = await self._poll(actor, receiver, paths, progress, index)
        await actor.close.remote()

    async def _stop(self, actor: Any, receiver: FolderReceiver | None, paths: TrialPaths, progress: TrialProgress,
                    index: Index | None, run: asyncio.Future[Any]) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(_await(actor.stop.remote()), STOP_SEC)
            await asyncio.wait_for(run, 10)
            await asyncio.wait_for(self._drain(actor, receiver, paths, progress, index), STOP_SEC)

    def _finished(self, paths: TrialPaths, progress: TrialProgress, index: Index | None) -> TrialResult:
        result = TrialResult.load(paths.result)
        if index is not None:
            index.record_trial(result, paths.dir)
        progress.phase, progress.status, progress.deadline = "done", result.status, None
        progress.reason = result.reason
        progress.test = result.test.accuracy if result.test else None
        return result


async def _await(ref: Any) -> Any:
    return await ref


def _lost_errors(ray: Any) -> tuple[type[BaseException], ...]:
    errors = ray.exceptions
    return tuple(getattr(errors, name) for name in (
        "RayActorError", "WorkerCrashedError", "NodeDiedError", "ObjectLostError", "OwnerDiedError",
        "LocalRayletDiedError", "RaySystemError", "RayTaskError") if hasattr(errors, name))


def _update_progress(progress: TrialProgress, snapshot: dict[str, Any]) -> None:
    left = snapshot["time_left"]
    progress.phase = snapshot["phase"]
    progress.deadline = None if left is None else time.time() + left  # the worker's clock may differ from ours
    progress.best_dev, progress.dev_evals, progress.test = snapshot["best_dev"], snapshot["dev_evals"], snapshot["test"]
    progress.reason = snapshot["reason"]
    if snapshot["status"] != "queued":
        progress.status = snapshot["status"]
    progress.last_usage = Usage.model_validate(snapshot["usage"])


def _pack_state(paths: TrialPaths) -> dict[str, bytes]:
    """The controller's copy of the trial folder, for a resume on a worker (workspace/ included)."""
    files = {}
    for path in sorted(paths.dir.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
            files[str(path.relative_to(paths.dir))] = path.read_bytes()
    return files


def _secrets(config: TrialConfig) -> dict[str, bytes]:
    """Ground truth the worker's trusted side needs: the arith test seed, the data folder's files."""
    out = {}
    if config.test_seed_file and Path(config.test_seed_file).is_file():
        out["test_seed"] = Path(config.test_seed_file).read_bytes()
    if config.data and Path(config.data).is_dir():
        for path in sorted(Path(config.data).rglob("*")):
            if path.is_file() and not path.is_symlink():
                out[f"data/{path.relative_to(config.data)}"] = path.read_bytes()
    return out


def _replan(paths: TrialPaths, config: TrialConfig) -> ResumePlan:
    """After a node death: our copy says "interrupted", with no scratch folder (it was on that node)."""
    from mac.trial.resume import plan_trial

    if paths.result.is_file():
        result = TrialResult.load(paths.result)
        if result.status == "running":
            result.status, result.scratch, result.live_workspace = "interrupted", None, None
            stamp = paths.result.stat().st_mtime_ns  # the resume reads the last heartbeat's time from it
            write_json_atomic(paths.result, result)
            os.utime(paths.result, ns=(stamp, stamp))
    return plan_trial(paths, config)


def _give_up(paths: TrialPaths, config: TrialConfig, progress: TrialProgress, index: Index | None) -> TrialResult:
    from mac.trial.lifecycle import new_result

    result = TrialResult.load(paths.result) if paths.result.is_file() else new_result(config)
    result.status, result.finished_at = "failed", time.time()
    result.reason = f"its Ray worker was lost {MAX_ATTEMPTS} times (see {EXECUTOR_LOG}); `mac run --resume " \
                    "--retry-failed` runs it again"
    write_json_atomic(paths.result, result)
    if index is not None:
        index.record_trial(result, paths.dir)
    progress.phase, progress.status, progress.reason = "done", result.status, result.reason
    return result
