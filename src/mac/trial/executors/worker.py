"""The worker side of the Ray executor: one trial in one Ray actor, on a node that can sandbox.

The actor runs `mac.trial.lifecycle.run_trial` (the trial's whole trusted side: gateway, evaluation service,
sandboxes, verifier, audit) in a trial folder under its own temporary folder, or, with a shared filesystem, in
the job's folder itself. The controller calls `poll` about once a second: it answers the trial's progress and
the files that changed (mac.trial.executors.stream). What it streams, and when (the granularity a resume after a
node death starts from):

- the trial folder (result.json, the logs, trajectory/, artifact/, ...) at most every SYNC_SEC, and at once on
  every phase change: result.json carries the dev-time heartbeat (mac.trial.lifecycle.HEARTBEAT_SEC);
- the live workspace, copied under the snapshot rules, every WORKSPACE_SYNC_SEC during development, when
  development ends and when the trial ends or is stopped: it becomes the job's `workspace/`.

Ground truth reaches the actor inside this trusted process only (the arith test seed as bytes, a data folder
through the object store) and, as locally, never enters a sandbox. The meta-agent's raw tool log (kept in the
scratch folder for `mac run --resume` on one machine) is not streamed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from mac.paths import scratch_home
from mac.store.models import TrialConfig, TrialResult
from mac.store.paths import TrialPaths
from mac.trial.executors.stream import FolderSender
from mac.trial.progress import TrialProgress

SYNC_SEC = 2.0
WORKSPACE_SYNC_SEC = 10.0
STOP_SEC = 60.0
"""How long a stopped trial may take to save itself as interrupted."""
NOT_STREAMED = ("config.json", "executor.jsonl", "workspace")
"""The controller's own files; the workspace goes as a snapshot (see the module docstring)."""


def unpack(files: dict[str, bytes], root: Path) -> None:
    """Write `files` (relative path -> bytes, from the controller) under `root`."""
    for rel, data in files.items():
        target = root / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute():
            raise ValueError(f"refused path {rel!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class TrialWorker:
    """Made a Ray actor by mac.trial.executors.ray (`ray.remote(TrialWorker)`); plain Python otherwise."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        """An actor runs one trial after another: nothing carries over."""
        self.task: asyncio.Future[TrialResult] | None = None
        self.progress: TrialProgress | None = None
        self.paths: TrialPaths | None = None
        self.sender: FolderSender | None = None
        self.root: Path | None = None
        self._synced, self._ws_synced, self._phase = 0.0, 0.0, ""

    def node(self) -> dict[str, str]:
        import ray

        context = ray.get_runtime_context()
        return {"node_id": context.get_node_id(), "node_ip": ray.util.get_node_ip_address(),  # type: ignore[no-untyped-call]
                "host": os.uname().nodename}

    async def run(self, config: TrialConfig, plan: Any, state: dict[str, bytes], secrets: dict[str, bytes],
                  shared_dir: str | None) -> str:
        """Run (or continue, with `plan`) the trial; "done" or "interrupted". `state`: the controller's copy of
        the trial folder (a resume starts from it); `secrets`: "test_seed" (the arith test seed file) and
        "data/<name>" (the data folder's files); `shared_dir`: the job's trial folder when the filesystem is
        shared (then nothing is streamed)."""
        from mac.trial.lifecycle import run_trial

        self._reset()
        self.root = root = Path(tempfile.mkdtemp(prefix="ray-trial-", dir=scratch_home()))
        config = self._localise(config, secrets, root)
        if shared_dir is not None:
            paths = TrialPaths(Path(shared_dir))
        else:
            paths = TrialPaths(root / config.job / config.trial)
            paths.dir.mkdir(parents=True)
            unpack(state, paths.dir)
            self.sender = FolderSender(paths.dir, skip=NOT_STREAMED)
            self.sender.scan(queue=False)  # the controller's own copy: only what changes from here goes back
        self.paths = paths
        if plan is not None:
            plan.result_path = paths.result
        self.progress = progress = TrialProgress(config.trial, meta_agent=config.meta_agent, seed=config.seed)
        self.task = asyncio.ensure_future(run_trial(config, paths, progress=progress, resume=plan))
        try:
            await self.task
            return "done"
        except asyncio.CancelledError:
            return "interrupted"

    def _localise(self, config: TrialConfig, secrets: dict[str, bytes], root: Path) -> TrialConfig:
        update: dict[str, Any] = {}
        if "test_seed" in secrets:
            seed = root / "test-seed"
            fd = os.open(seed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets["test_seed"])
            update["test_seed_file"] = str(seed)
        data = {k.removeprefix("data/"): v for k, v in secrets.items() if k.startswith("data/")}
        if data:
            unpack(data, root / "data")
            update["data"] = str(root / "data")
        return config.model_copy(update=update) if update else config

    async def poll(self, max_bytes: int = 8 << 20, final: bool = False) -> dict[str, Any]:
        """Progress now, and the next changed files (see the module docstring); `more`: files are still queued."""
        chunks: list[dict[str, Any]] = []
        more = False
        if self.sender is not None:
            await asyncio.to_thread(self._sync, final)
            chunks, more = self.sender.take(max_bytes)
        return {"progress": self._progress(), "chunks": chunks, "more": more,
                "running": self.task is not None and not self.task.done()}

    def _sync(self, final: bool) -> None:
        now, phase = time.monotonic(), self.progress.phase if self.progress else ""
        changed = phase != self._phase
        if self.sender is None:
            return
        if final or changed or now - self._synced >= SYNC_SEC:
            self.sender.scan()
            self._synced = now
        if final or (changed and self._phase == "develop") or \
                (phase == "develop" and now - self._ws_synced >= WORKSPACE_SYNC_SEC):
            self._sync_workspace()
            self._ws_synced = now
        self._phase = phase

    def _sync_workspace(self) -> None:
        from mac.errors import MacError
        from mac.sandbox.snapshot import snapshot_workspace

        live = self._live_workspace()
        if live is None or not live.is_dir() or self.sender is None or self.root is None:
            return
        copy = Path(tempfile.mkdtemp(prefix="ws-", dir=self.root)) / "w"
        try:
            snapshot_workspace(live, copy)
            self.sender.add_tree(copy, "workspace")
        except (MacError, OSError):
            pass  # past the snapshot limits or changing under us: the last good copy stands
        finally:
            shutil.rmtree(copy.parent, ignore_errors=True)

    def _live_workspace(self) -> Path | None:
        if self.paths is None:
            return None
        with contextlib.suppress(OSError, ValueError):
            live = TrialResult.load(self.paths.result).live_workspace
            return Path(live) if live else self.paths.workspace
        return None

    def _progress(self) -> dict[str, Any] | None:
        p = self.progress
        if p is None:
            return None
        usage = p.usage()
        return {"phase": p.phase, "time_left": p.time_left(), "best_dev": p.best_dev, "dev_evals": p.dev_evals,
                "test": p.test, "status": p.status, "reason": p.reason, "usage": usage.model_dump(mode="json")}

    async def stop(self) -> None:
        """Stop the trial cleanly: its sandboxes die and it saves itself as interrupted."""
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(self.task), STOP_SEC)

    async def close(self) -> None:
        """Remove this worker's folders (after the controller took the last files)."""
        from mac.trash import discard

        if self.paths is not None and self.sender is not None:
            with contextlib.suppress(OSError, ValueError):
                scratch = TrialResult.load(self.paths.result).scratch
                if scratch:
                    discard(Path(scratch))
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
