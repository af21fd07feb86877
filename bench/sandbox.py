"""Sandbox start-up cost: plain vs sandboxed `python -c pass` (median of N runs, measured in one run).

    python bench/sandbox.py [--runs 30]

Plain runs the sandbox runtime's own interpreter as a direct asyncio subprocess; "sandboxed" is
BwrapBackend.run with everything on (slot uid, namespaces, cgroups, seccomp, rlimits) and variants without
cgroups or seccomp, so their cost shows. Target: sandboxed <= plain + 10 ms (median).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from mac.sandbox.base import SandboxSpec
from mac.sandbox.bwrap import BwrapBackend
from mac.sandbox.runtime import ensure_runtime


async def _plain(python: str) -> None:
    proc = await asyncio.create_subprocess_exec(python, "-c", "pass", env={}, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    await proc.communicate()


async def _interleaved(variants: dict, runs: int) -> dict[str, float]:
    """Median ms per variant, running the variants in turn each round so machine noise hits them alike."""
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for round_ in range(runs + 3):
        for name, make in variants.items():
            start = time.perf_counter()
            await make()
            if round_ >= 3:  # warm-up rounds
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


async def main(runs: int) -> None:
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(parser.parse_args().runs))
