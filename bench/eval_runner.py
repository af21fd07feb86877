"""Overhead of one artifact evaluation (snapshot, sandbox start, runner, grading) with a trivial agent.

    python bench/eval_runner.py [--runs 15] [--problems 60]

Prints the median and p90 wall time of `run_artifact` per sandbox backend, for an agent that makes no model
calls (MAC as published: ~0.25 s per 60-problem evaluation on this machine kind, see the anchor measurements).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from mac.config import Quota, TaskModelSpec
from mac.domains.base import get_domain
from mac.evaluation.runner import run_artifact
from mac.gateway import Gateway, make_backend
from mac.paths import scratch_home
from mac.sandbox.registry import get_backend

TRIVIAL = """
from mac.sdk import BaseAgent, Prediction

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        return [Prediction(p.idx, "1") for p in problems]
"""


async def measure(backend_name: str, runs: int, n: int) -> list[float]:
    domain = get_domain("arith")
    records = domain.load("dev")[:n]
    times = []
    with tempfile.TemporaryDirectory(dir=scratch_home()) as scratch:
        Path(scratch).chmod(0o711)
        artifact = Path(scratch) / "artifact"
        artifact.mkdir()
        (artifact / "agent.py").write_text(TRIVIAL)
        items = [domain.sim_item(i, r) for i, r in enumerate(records)]
        model = make_backend(TaskModelSpec.parse("sim"), sim_items=items)
        async with Gateway(model, model_name="sim", log_path=None, socket_dir=Path(scratch) / "s") as gateway:
            grant = gateway.grant(phase="eval", quota=Quota())
            backend = get_backend(backend_name)
            for i in range(runs + 1):
                started = time.perf_counter()
                result = await run_artifact(domain=domain, records=records, split="dev", artifact=artifact,
                                            gateway=gateway, token=grant.token, backend=backend, timeout=60,
                                            workdir=Path(scratch) / "w")
                assert result.success and result.total == n, result.error
                if i:  # the first run warms caches (runtime, imports)
                    times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--problems", type=int, default=60)
    args = parser.parse_args()
    medians = {}
    for name in ("none", "bwrap"):
        times = sorted(asyncio.run(measure(name, args.runs, args.problems)))
        medians[name] = statistics.median(times)
        p90 = times[int(0.9 * (len(times) - 1))]
        print(f"{name:6s} median {medians[name] * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms"
              f"  ({args.runs} runs, {args.problems} problems)")
    print(f"bwrap / none: {medians['bwrap'] / medians['none']:.2f}x; MAC as published: ~250 ms")


if __name__ == "__main__":
    main()
