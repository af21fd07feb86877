"""The development session: the dev token, the evaluation service and the meta-agent's sandbox, torn down in
the order that leaves nothing able to spend: kill the meta-agent, stop the service (and any running
evaluation), close the meta-agent's gateway channel, revoke the dev token.

The deadline holds even if the event loop is busy: the sandbox backend's watchdog thread kills the meta-agent's
process tree at its wall clock (mac.sandbox.watchdog). Its logs are read off the loop, with a deadline."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from mac.config import Quota
from mac.egress import EgressProxy
from mac.evaluation.service import EvaluationService
from mac.evidence import EvidenceLog
from mac.metaagents.base import LaunchContext
from mac.offload import off_loop
from mac.records import Usage
from mac.store.models import MetaAgentExit, TrialConfig
from mac.store.paths import TrialPaths
from mac.trial.develop import dev_environment, dev_spec, exit_info, run_meta_agent
from mac.trial.progress import TrialProgress

COLLECT_SEC = 120.0
"""Deadline for turning the meta-agent's logs into trajectory/ (they are capped; this bounds the parsing)."""


class DevSession:
    """One development run. A resumed trial passes what is left: `dev_seconds` (default: the whole budget),
    `quota` (default: the budget's dev quota) and `spent_sec`, the dev time already used, so that dev_evals
    times continue on the trial's development clock."""

    def __init__(self, config: TrialConfig, paths: TrialPaths, setup: Any, gateway: Any,
                 evidence: EvidenceLog | None, scratch: Path, progress: TrialProgress, *,
                 dev_seconds: float | None = None, quota: Quota | None = None, spent_sec: float = 0.0):
        self.config, self.paths, self.setup, self.gateway = config, paths, setup, gateway
        self.evidence, self.scratch, self.progress = evidence, scratch, progress
        self.dev_seconds = config.budget.dev_time_sec if dev_seconds is None else dev_seconds
        self.spent_sec = spent_sec
        self.started_at: float | None = None
        self.grant = gateway.grant(phase="dev", quota=quota or config.budget.dev_quota, label=f"{config.trial}/dev")
        self.service: EvaluationService | None = None
        self.exit: MetaAgentExit | None = None
        self.dev_time_sec = 0.0
        self._usage = Usage()

    @property
    def evaluations(self) -> int:
        """How many dev evaluations ran (their details are in dev_evals.jsonl)."""
        return self.service.evaluations if self.service is not None else 0

    def best(self) -> dict[str, Any] | None:
        return self.service.best() if self.service is not None else None

    def dev_usage(self) -> Usage:
        try:
            return self.gateway.usage(self.grant.token)
        except Exception:  # noqa: BLE001 - the gateway is gone; the last figure read stands
            return self._usage

    async def run(self) -> None:
        budget, trial = self.config.budget, self.config.trial
        await asyncio.to_thread(self.setup.adapter.install)  # a real tool's first install; cached, before the clock
        started = self.started_at = time.time()
        deadline = started + self.dev_seconds
        self.progress.deadline = deadline
        self.progress.usage_fn = self.dev_usage
        self.service = EvaluationService(
            domain=self.setup.domain, records=self.setup.dev, workspace=self.setup.workspace, gateway=self.gateway,
            token=self.grant.token, backend=self.setup.sandbox, budget=budget, deadline=deadline,
            started_at=started - self.spent_sec, log_path=self.paths.dev_evals, evidence=self.evidence,
            workdir=self._folder("runs", 0o711), label=trial, model_name=self.config.task_model.name,
            simulated=self.config.task_model.simulated, on_result=self.progress.on_dev_eval)
        eval_socket = self._folder("eval", 0o711) / "eval.sock"
        channel = None
        result = None
        ctx = LaunchContext(domain=self.config.domain, seed=self.config.seed, instruction=self.setup.instruction,
                            deadline=deadline, stage_dir=self._folder("stage", 0o755),
                            log_dir=self._folder("agent-logs", 0o711),
                            env=dev_environment(token=self.grant.token, model_name=self.config.task_model.name,
                                                deadline=deadline, seed=self.config.seed, domain=self.config.domain))
        egress = EgressProxy(self.setup.adapter.egress_hosts(ctx), log_path=self.paths.egress,
                             evidence=self.evidence, label=f"{trial}/meta-agent")
        try:
            await self.service.start(eval_socket)
            channel = await self.gateway.open_channel(self.grant.token, label=f"{trial}/meta-agent")
            egress_socket = await egress.start(self._folder("egress", 0o711) / "egress.sock")
            self.setup.adapter.stage(ctx)
            spec = dev_spec(label=f"{trial}/meta-agent", adapter=self.setup.adapter, ctx=ctx,
                            workspace=self.setup.workspace, gateway_socket=channel, eval_socket=eval_socket,
                            budget=budget, seconds=deadline - time.time(), egress_socket=egress_socket)
            result = await run_meta_agent(self.setup.sandbox, spec, deadline)
        finally:
            self.dev_time_sec = round(time.time() - started, 3)
            await self.service.close()
            if channel is not None:
                await self.gateway.close_channel(channel)
            self._usage = self.dev_usage()
            self.gateway.revoke(self.grant.token)
            self.progress.usage_fn = None
            self.progress.last_usage = self._usage
            await egress.close()
        self.exit = exit_info(result, deadline)
        await off_loop(lambda _d: self.setup.adapter.collect(ctx, result, self.paths.trajectory), seconds=COLLECT_SEC,
                       what="reading the meta-agent's logs")

    def _folder(self, name: str, mode: int) -> Path:
        folder = self.scratch / name
        folder.mkdir(exist_ok=True)
        folder.chmod(mode)
        return folder
