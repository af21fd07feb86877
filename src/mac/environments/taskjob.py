"""One-shot entry points over many tasks (what `mac task run` and `mac task check` call): load the tasks, start a
gateway for the task model, run each task, close everything."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from mac.config import Quota, TaskModelSpec
from mac.environments.agentrun import TaskRunResult, run_agent_task
from mac.environments.base import EnvironmentBackend
from mac.environments.check import CheckResult, check_task
from mac.environments.registry import get_env_backend
from mac.environments.task import load_task
from mac.evidence import EvidenceLog
from mac.paths import scratch_home


def _backend(env_backend: str | EnvironmentBackend, evidence: EvidenceLog | None) -> EnvironmentBackend:
    if isinstance(env_backend, EnvironmentBackend):
        return env_backend
    return get_env_backend(env_backend, evidence=evidence)


async def check_tasks(paths: list[Path], *, env_backend: str | EnvironmentBackend = "auto") -> list[CheckResult]:
    backend = _backend(env_backend, None)
    return [await check_task(backend, load_task(path)) for path in paths]


async def run_tasks(paths: list[Path], *, agent: Path, task_model: TaskModelSpec,
                    env_backend: str | EnvironmentBackend = "auto",
                    agent_timeout: float | None = None, quota: Quota | None = None, log_dir: Path | None = None,
                    evidence: EvidenceLog | None = None) -> list[TaskRunResult]:
    """Run the agent artifact `agent` on each task folder in `paths`, one after the other."""
    from mac.gateway import Gateway, make_backend
    from mac.sandbox.registry import get_backend

    tasks = [load_task(path) for path in paths]
    environments = _backend(env_backend, evidence)
    sandbox = get_backend("bwrap", evidence=evidence)
    scratch = Path(tempfile.mkdtemp(prefix="tasks-", dir=scratch_home()))
    scratch.chmod(0o711)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        async with Gateway(make_backend(task_model), model_name=task_model.name,
                           log_path=(log_dir / "gateway.jsonl") if log_dir else None,
                           socket_dir=scratch / "sockets", evidence=evidence) as gateway:
            for task in tasks:
                grant = gateway.grant(phase="task", quota=quota or Quota(), label=task.name)
                try:
                    results.append(await run_agent_task(task, artifact=agent, env_backend=environments,
                                                        sandbox=sandbox, gateway=gateway, token=grant.token,
                                                        agent_timeout=agent_timeout, log_dir=log_dir))
                finally:
                    gateway.revoke(grant.token)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return results
