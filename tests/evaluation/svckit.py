"""A real evaluation service for tests: arith dev records, the sim behind a real gateway, the bwrap sandbox,
served on a unix socket and called over HTTP."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import AsyncIterator

import aiohttp

from mac.config import Budget, Quota, SandboxLimits, TaskModelSpec
from mac.domains.base import get_domain
from mac.evaluation.service import EvaluationService
from mac.evidence import EvidenceLog
from mac.gateway import Gateway, make_backend
from mac.paths import scratch_home
from mac.sandbox.registry import get_backend

SLOW_AGENT = '''
import time
from mac.sdk import BaseAgent, Prediction

class Slow(BaseAgent):
    def solve(self, problems, timeout_sec):
        time.sleep(120)
        return [Prediction(p.idx, "0") for p in problems]
'''


@dataclass
class Served:
    service: EvaluationService
    session: aiohttp.ClientSession
    workspace: Path
    evidence: EvidenceLog
    log_path: Path
    gateway: Gateway
    token: str

    async def post(self, **body: Any) -> tuple[int, dict]:
        async with self.session.post("http://eval/evaluate/agent", json=body) as response:
            return response.status, await response.json()

    async def get(self, path: str) -> dict:
        async with self.session.get(f"http://eval{path}") as response:
            assert response.status == 200
            return await response.json()


@contextlib.asynccontextmanager
async def serving(tmp_path: Path, *, n_dev: int = 6, requests: int | None = 500,
                  dev_time: float = 600.0, probe_threshold: int = 25, domain_name: str = "arith",
                  history_kept: int = 50) -> AsyncIterator[Served]:
    domain = get_domain(domain_name)
    records = domain.load("dev")[:n_dev]
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy(domain.baseline("naive") / "agent.py", workspace / "agent.py")
    evidence = EvidenceLog(tmp_path / "evidence.jsonl")
    model = make_backend(TaskModelSpec.parse("sim"), [domain.sim_item(i, r) for i, r in enumerate(records)])
    scratch = Path(tempfile.mkdtemp(prefix="svc-", dir=scratch_home()))
    scratch.chmod(0o711)
    budget = Budget(dev_time_sec=dev_time, dev_quota=Quota(requests=requests), eval_timeout_sec=30,
                    eval_limits=SandboxLimits(memory_mb=1024, pids=128))
    try:
        async with Gateway(model, "sim", tmp_path / "gateway.jsonl", scratch / "sockets", evidence) as gateway:
            grant = gateway.grant(phase="dev", quota=budget.dev_quota, label="svc-test")
            service = EvaluationService(
                domain=domain, records=records, workspace=workspace, gateway=gateway, token=grant.token,
                backend=get_backend("bwrap", evidence=evidence), budget=budget, deadline=time.time() + dev_time,
                log_path=tmp_path / "dev_evals.jsonl", evidence=evidence, workdir=scratch, label="svc",
                model_name="sim", simulated=True, probe_threshold=probe_threshold, history_kept=history_kept)
            sock = scratch / "eval.sock"
            await service.start(sock)
            try:
                async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(sock))) as session:
                    yield Served(service, session, workspace, evidence, tmp_path / "dev_evals.jsonl", gateway,
                                 grant.token)
            finally:
                await service.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
