"""Soak: the controller's memory over thousands of dev evaluations (the evaluation service's history is bounded).

    python bench/soak.py [--evals 2000] [--every 100] [--problems 5]

One evaluation service as a trial runs it (arith dev records, the sim behind a real gateway, real bwrap sandboxes,
HTTP over its unix socket) scores a small artifact `--evals` times in a row. Every `--every` evaluations it prints
the controller's resident memory (VmRSS), and at the end the least-squares slope of RSS against the evaluation
count after a warm-up (the first fifth), in KiB per evaluation, and the growth that slope projects over the run.
Flat means the projected growth is under 1 KiB per evaluation (2 MiB over 2,000).
"""

from __future__ import annotations

import argparse
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

AGENT = '''
from mac.sdk import BaseAgent, ModelClient, Prediction

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        client = ModelClient()
        return [Prediction(p.idx, client.chat([{"role": "user", "content": p.question}], max_tokens=32))
                for p in problems]
'''
FLAT_KIB_PER_EVAL = 1.0


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def slope(points: list[tuple[int, int]]) -> float:
    """Least-squares slope of y over x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


async def soak(evals: int, every: int, problems: int) -> list[tuple[int, int]]:
    domain = get_domain("arith")
    records = domain.load("dev")[:problems]
    scratch = Path(tempfile.mkdtemp(prefix="soak-", dir=scratch_home()))
    scratch.chmod(0o711)
    workspace = scratch / "workspace"
    workspace.mkdir()
    (workspace / "agent.py").write_text(AGENT)
    budget = Budget(dev_time_sec=10 * 24 * 3600, dev_quota=Quota(), eval_timeout_sec=60,
                    eval_limits=SandboxLimits(memory_mb=1024, pids=128))
    model = make_backend(TaskModelSpec.parse("sim"), [domain.sim_item(i, r) for i, r in enumerate(records)])
    evidence = EvidenceLog(scratch / "evidence.jsonl")
    samples: list[tuple[int, int]] = []
    try:
        async with Gateway(model, "sim", scratch / "gateway.jsonl", scratch / "sockets", evidence) as gateway:
            grant = gateway.grant(phase="dev", quota=budget.dev_quota, label="soak")
            service = EvaluationService(
                domain=domain, records=records, workspace=workspace, gateway=gateway, token=grant.token,
                backend=get_backend("bwrap", evidence=evidence), budget=budget, deadline=time.time() + 10 * 24 * 3600,
                log_path=scratch / "dev_evals.jsonl", evidence=evidence, workdir=scratch, label="soak",
                model_name="sim", simulated=True)
            sock = scratch / "eval.sock"
            await service.start(sock)
            started = time.monotonic()
            try:
                async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(sock))) as session:
                    for i in range(1, evals + 1):
                        async with session.post("http://eval/evaluate/agent", json={"agent_file": "agent.py"}) as r:
                            body = await r.json()
                        if r.status != 200 or not body.get("success"):
                            raise RuntimeError(f"evaluation {i} failed: {r.status} {body.get('error')}")
                        if i % every == 0 or i == 1:
                            samples.append((i, rss_kib()))
                            print(f"{i:6d} evaluations  RSS {samples[-1][1] / 1024:7.1f} MiB  "
                                  f"history {len(service.history):3d}  {time.monotonic() - started:7.1f} s",
                                  flush=True)
            finally:
                await service.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evals", type=int, default=2000)
    parser.add_argument("--every", type=int, default=100)
    parser.add_argument("--problems", type=int, default=5)
    args = parser.parse_args()
    samples = asyncio.run(soak(args.evals, args.every, args.problems))
    steady = [s for s in samples if s[0] > args.evals // 5] or samples
    kib_per_eval = slope(steady)
    growth_mib = kib_per_eval * args.evals / 1024
    print(f"\nRSS {samples[0][1] / 1024:.1f} MiB after the first evaluation, {samples[-1][1] / 1024:.1f} MiB after "
          f"{samples[-1][0]}")
    print(f"slope after warm-up: {kib_per_eval:.3f} KiB per evaluation ({growth_mib:.2f} MiB over {args.evals}): "
          f"{'flat' if kib_per_eval < FLAT_KIB_PER_EVAL else 'GROWING'}")


if __name__ == "__main__":
    main()
