"""Sandbox costs, measured in one run:

    python bench/sandbox.py [--runs 30] [--problems 60]

1. start-up: plain vs sandboxed `python -c pass` (median of N, interleaved so machine noise hits all alike).
   Plain runs the runtime's own interpreter as a direct asyncio subprocess; "sandboxed" is BwrapBackend.run with
   everything on (slot uid, namespaces, cgroups, seccomp, rlimits), then without cgroups or seccomp, so their
   cost shows. Target: sandboxed <= plain + 10 ms (median).
2. relay: one HTTP round trip from inside the sandbox through the init's relay to a host unix socket (p50).
3. harness: a dev evaluation of N problems with the instant `sim` model, the agent calling it once per problem
   (snapshot, sandbox, relay, gateway, runner, grading). Target: < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

from mac.config import Quota, TaskModelSpec
from mac.paths import scratch_home
from mac.sandbox.base import Relay, SandboxSpec
from mac.sandbox.bwrap import BwrapBackend
from mac.sandbox.runtime import ensure_runtime


async def _plain(python: str) -> None:
    proc = await asyncio.create_subprocess_exec(python, "-c", "pass", env={}, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    await proc.communicate()


async def _interleaved(variants: dict, runs: int) -> dict[str, float]:
    """Median ms per variant, running the variants in turn (shuffled) each round so machine noise hits them alike.

    Shuffled because a cgroup v1 join pays an RCU grace period (~10-15 ms) only when no other join happened in
    the last few ms: a fixed order would hand that cost to whichever cgroup variant follows a cgroup-less one.
    """
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(runs + 3):
        order = list(variants.items())
        random.shuffle(order)
        for name, make in order:
            start = time.perf_counter()
            await make()
            if round_ >= 3:  # warm-up rounds
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


RELAY_PROBE = """
import http.client, json, statistics, time
conn = http.client.HTTPConnection("127.0.0.1", 8000)
body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
samples = []
for _ in range(300):
    start = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    conn.getresponse().read()
    samples.append(time.perf_counter() - start)
print(statistics.median(samples[20:]) * 1000)
"""

AGENT = """
from mac.sdk import BaseAgent, ModelClient, Prediction

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        client = ModelClient()
        return [Prediction(p.idx, client.chat([{"role": "user", "content": p.question}])) for p in problems]
"""


async def relay_p50(backend: BwrapBackend) -> float:
    from mac.testing.fake_openai import FakeOpenAI

    with tempfile.TemporaryDirectory(dir=scratch_home()) as folder:
        Path(folder).chmod(0o755)
        fake = FakeOpenAI(reply="pong", record=False)
        await fake.start(path=Path(folder) / "llm.sock")
        try:
            result = await backend.run(SandboxSpec(label="relay", argv=["python", "-c", RELAY_PROBE],
                                                   relays=[Relay(socket=Path(folder) / "llm.sock", port=8000)]))
        finally:
            await fake.close()
    return float(result.stdout)


async def harness(backend: BwrapBackend, runs: int, problems: int) -> float:
    """Median seconds of a whole dev evaluation of `problems` problems with the instant sim model."""
    from mac.domains.base import get_domain
    from mac.evaluation.runner import run_artifact
    from mac.gateway import Gateway, make_backend

    domain = get_domain("arith")
    records = domain.load("dev")[:problems]
    times = []
    with tempfile.TemporaryDirectory(dir=scratch_home()) as scratch:
        Path(scratch).chmod(0o711)
        artifact = Path(scratch) / "artifact"
        artifact.mkdir()
        (artifact / "agent.py").write_text(AGENT)
        model = make_backend(TaskModelSpec.parse("sim"), sim_items=[domain.sim_item(i, r) for i, r in enumerate(records)])
        async with Gateway(model, model_name="sim", log_path=None, socket_dir=Path(scratch) / "s") as gateway:
            grant = gateway.grant(phase="eval", quota=Quota())
            for i in range(runs + 1):
                started = time.perf_counter()
                result = await run_artifact(domain=domain, records=records, split="dev", artifact=artifact,
                                            gateway=gateway, token=grant.token, backend=backend, timeout=60,
                                            workdir=Path(scratch) / "w")
                assert result.success and result.total == len(records) and result.usage.requests, result.error
                if i:  # the first run warms caches
                    times.append(time.perf_counter() - started)
    return statistics.median(times)


async def main(runs: int, problems: int) -> None:
    runtime = ensure_runtime()
    spec = SandboxSpec(label="bench", argv=["python", "-c", "pass"])
    variants = {"plain python -c pass": lambda: _plain(str(runtime.python))}
    for name, backend in (("bwrap (all on)", BwrapBackend()),
                          ("bwrap without cgroups", BwrapBackend(use_cgroups=False)),
                          ("bwrap without seccomp", BwrapBackend(use_seccomp=False))):
        async def run(backend=backend):
            result = await backend.run(spec)
            assert result.returncode == 0, result
        variants[name] = run
    medians = await _interleaved(variants, runs)
    plain = medians["plain python -c pass"]
    print(f"{'command':<28} {'median ms':>10} {'vs plain':>10}   ({runs} runs each, interleaved)")
    for name, ms in medians.items():
        print(f"{name:<28} {ms:>10.1f} {ms - plain:>+10.1f}")
    overhead = medians["bwrap (all on)"] - plain
    print(f"sandbox start overhead (all on): {overhead:+.1f} ms median; target <= +10 ms: "
          f"{'met' if overhead <= 10 else 'NOT met'}")
    backend = BwrapBackend()
    print(f"relay round trip inside the sandbox (http.client -> init relay -> unix socket -> aiohttp): "
          f"p50 {await relay_p50(backend):.2f} ms")
    seconds = await harness(backend, max(runs // 3, 5), problems)
    print(f"dev evaluation harness, {problems} problems, instant sim model, 1 call per problem: median "
          f"{seconds * 1000:.0f} ms; target < 1 s: {'met' if seconds < 1 else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--problems", type=int, default=60)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.problems))
