"""Attacks a meta-agent can try on its evaluation service: an evaluation slipped in while development ends.

Always on the bwrap backend, with the sim behind a real gateway, over the service's real unix socket."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

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


def test_no_evaluation_starts_once_the_service_is_closing(tmp_path):
    """A request with kill_running waits for the running evaluation to die; if development ends meanwhile,
    it must not start a fresh evaluation (with the dev token still valid) that outlives the service."""
    domain = get_domain("arith")
    records = domain.load("dev")[:2]
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "slow.py").write_text(SLOW_AGENT)
    evidence = EvidenceLog()
    budget = Budget(dev_time_sec=600, dev_quota=Quota(requests=100), eval_timeout_sec=20,
                    eval_limits=SandboxLimits(memory_mb=1024, pids=128))

    async def main():
        model = make_backend(TaskModelSpec.parse("sim"), [domain.sim_item(i, r) for i, r in enumerate(records)])
        scratch = Path(tempfile.mkdtemp(prefix="svc-attack-", dir=scratch_home()))
        scratch.chmod(0o711)
        try:
            async with Gateway(model, "sim", None, scratch / "sockets", evidence) as gateway:
                grant = gateway.grant(phase="dev", quota=budget.dev_quota, label="svc-attack")
                service = EvaluationService(
                    domain=domain, records=records, workspace=workspace, gateway=gateway, token=grant.token,
                    backend=get_backend("bwrap", evidence=evidence), budget=budget, deadline=time.time() + 600,
                    evidence=evidence, workdir=scratch, label="svc-attack", model_name="sim", simulated=True)
                sock = scratch / "eval.sock"
                await service.start(sock)
                async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(sock))) as session:
                    async def post(**body):
                        async with session.post("http://eval/evaluate/agent", json=body) as response:
                            return response.status, await response.json()

                    first = asyncio.ensure_future(post(agent_file="slow.py", timeout=20))
                    for _ in range(200):
                        if service._running is not None:
                            break
                        await asyncio.sleep(0.05)
                    replacement = asyncio.ensure_future(post(agent_file="slow.py", timeout=20, kill_running=True))
                    give_up = time.monotonic() + 30
                    while time.monotonic() < give_up:  # until the replacement has asked the first run to die
                        if service._running is None or service._running[0].cancelling():
                            break
                        await asyncio.sleep(0)
                    closing_at = time.time()
                    await service.close()  # the end of development
                    running_after_close = service._running is not None
                    outcomes = await asyncio.gather(first, replacement, return_exceptions=True)
                return closing_at, running_after_close, list(service.history), outcomes
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    closing_at, running_after_close, history, outcomes = asyncio.run(main())
    assert not running_after_close
    assert [h["started_at"] < closing_at for h in history] == [True], history
    assert history[0]["killed"] is True
    status, body = outcomes[1]
    assert status == 503 and "over" in body["error"], outcomes
