"""Task environment costs, measured in one run (medians over rounds, ratios to plain bwrap):

    python bench/environments.py [--runs 30] [--mb 64]

1. start: an environment of a small image on a warm cache (image unpacked), from `start()` to envd answering
   (and its stop apart), against a plain `bwrap --ro-bind / / true` and the full MAC sandbox running `true`.
   Target: start <= 100 ms. Prints the load average: on a shared 2-core machine it dominates these numbers.
2. overlay: plain bwrap running `true` with the image rootfs under a copy-on-write overlay as its root, against a
   tmpfs root (what MAC's artifact sandboxes use): what the overlay mount itself costs.
3. exec round trip: `true` through the controller's relay (JSON line -> relay -> envd -> back), directly to envd,
   and as a fresh plain `bwrap ... true` per command (what an exec without a server would cost). Target <= 5 ms.
4. unpack: a layer of ~N MiB (many small files and a few large) through the safe unpacker, against `tar -xf`.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from mac.environments import oci
from mac.environments.base import EnvironmentSpec
from mac.environments.bwrap import BwrapEnvBackend
from mac.environments.cache import ImageCache
from mac.environments.relay import ExecRelay
from mac.environments.unpack import LayerApplier
from mac.paths import scratch_home
from mac.sandbox.base import SandboxSpec
from mac.sandbox.host import find_bwrap


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def timed(make, runs: int, warmup: int = 3) -> float:
    samples = []
    for i in range(runs + warmup):
        start = time.perf_counter()
        await make()
        if i >= warmup:
            samples.append(time.perf_counter() - start)
    return median_ms(samples)


async def plain_bwrap(args: list[str]) -> None:
    proc = await asyncio.create_subprocess_exec(str(find_bwrap().path), *args, env={},
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"plain bwrap failed: {err.decode()[-500:]}")


def host_runtime_args() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib64"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{name}"]
    return args


def make_image(folder: Path) -> Path:
    root = folder / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "app").mkdir()
    (root / "app" / "README").write_text("bench\n")
    oci.write_layout(folder / "image", [oci.layer_from_dir(root)], workdir="/app")
    return folder / "image"


async def bench_start(backend: BwrapEnvBackend, image: Path, runs: int) -> dict[str, float]:
    spec = EnvironmentSpec(image=f"oci:{image}", host_runtime=True, label="bench")

    starts, stops = [], []
    for i in range(runs + 3):
        began = time.perf_counter()
        env = await backend.start(spec)
        ready = time.perf_counter()
        await env.stop()
        if i >= 3:
            starts.append(ready - began)
            stops.append(time.perf_counter() - ready)

    async def sandbox_true():
        await backend.sandbox.run(SandboxSpec(label="bench", argv=["true"]))

    return {"environment start (to ready)": median_ms(starts), "environment stop": median_ms(stops),
            "MAC sandbox `true`": await timed(sandbox_true, runs),
            "plain bwrap `true`": await timed(lambda: plain_bwrap(["--ro-bind", "/", "/", "--unshare-all", "true"]), runs)}


async def bench_overlay(rootfs: Path, folder: Path, runs: int) -> dict[str, float]:
    base = ["--unshare-all", "--proc", "/proc", "--dev", "/dev"]

    async def overlay():
        await plain_bwrap(["--overlay-src", str(rootfs), "--tmp-overlay", "/", *host_runtime_args(), *base, "true"])

    async def tmpfs_root():
        await plain_bwrap(["--tmpfs", "/", *host_runtime_args(), *base, "true"])

    return {"bwrap, image overlay as root": await timed(overlay, runs),
            "bwrap, tmpfs root": await timed(tmpfs_root, runs)}


async def bench_exec(backend: BwrapEnvBackend, image: Path, folder: Path, runs: int) -> dict[str, float]:
    spec = EnvironmentSpec(image=f"oci:{image}", host_runtime=True, label="bench")
    async with await backend.start(spec) as env:
        relay = ExecRelay(env, scratch=folder)
        await relay.start(folder / "relay.sock")
        reader, writer = await asyncio.open_unix_connection(str(folder / "relay.sock"))
        line = json.dumps({"op": "exec", "command": ["true"]}).encode() + b"\n"

        async def through_relay():
            writer.write(line)
            await writer.drain()
            reply = json.loads(await reader.readline())
            assert reply["ok"] and reply["returncode"] == 0, reply

        results = {"exec via relay": await timed(through_relay, runs * 10),
                   "exec direct to envd": await timed(lambda: env.exec(["true"]), runs * 10)}
        writer.close()
        await relay.close()
    results["plain bwrap per command"] = await timed(
        lambda: plain_bwrap(["--ro-bind", "/", "/", "--unshare-all", "true"]), runs)
    return results


def make_layer(mb: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        small = os.urandom(16 << 10)
        for i in range((mb << 20) // 2 // len(small)):
            info = tarfile.TarInfo(f"pkg/{i % 97}/file{i}.py")
            info.size = len(small)
            tar.addfile(info, io.BytesIO(small))
        big = os.urandom(1 << 20)
        for i in range(mb // 2):
            info = tarfile.TarInfo(f"blobs/big{i}.bin")
            info.size = len(big)
            tar.addfile(info, io.BytesIO(big))
    return buffer.getvalue()


def bench_unpack(folder: Path, mb: int, rounds: int = 3) -> dict[str, float]:
    layer = make_layer(mb)
    (folder / "layer.tar").write_bytes(layer)
    ours, tar = [], []
    for i in range(rounds):
        target = folder / f"ours{i}"
        target.mkdir()
        start = time.perf_counter()
        applier = LayerApplier(str(target), None)
        applier.apply(io.BytesIO(layer))
        applier.close()
        ours.append(time.perf_counter() - start)
        target = folder / f"tar{i}"
        target.mkdir()
        start = time.perf_counter()
        subprocess.run(["tar", "-xf", str(folder / "layer.tar"), "-C", str(target)], check=True)
        tar.append(time.perf_counter() - start)
        shutil.rmtree(folder / f"ours{i}")
        shutil.rmtree(target)
    size = len(layer) / (1 << 20)
    return {"safe unpacker MiB/s": size / statistics.median(ours), "tar -xf MiB/s": size / statistics.median(tar)}


def show(title: str, values: dict[str, float], unit: str = "ms") -> None:
    print(f"\n{title}")
    reference = list(values.values())[-1]
    for name, value in values.items():
        print(f"  {name:32s} {value:9.2f} {unit}   ratio {value / reference:6.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--mb", type=int, default=64)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-env-", dir=scratch_home()))
    folder.chmod(0o755)
    try:
        cache = ImageCache(folder / "cache")
        backend = BwrapEnvBackend(cache=cache)
        image = make_image(folder)
        warm = await backend.start(EnvironmentSpec(image=f"oci:{image}", host_runtime=True))  # unpack: warm cache
        rootfs = warm.image.rootfs
        await warm.stop()
        show("1. start on a warm cache (median)", await bench_start(backend, image, args.runs))
        show("2. overlay setup (median)", await bench_overlay(rootfs, folder, args.runs))
        show("3. exec round trip (median)", await bench_exec(backend, image, folder, args.runs))
        show(f"4. unpack a {args.mb} MiB layer (median of 3)", bench_unpack(folder, args.mb), "MiB/s")
        print(f"\ntargets: environment start <= 100 ms warm; exec via relay <= 5 ms (load average {os.getloadavg()[0]:.1f})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
