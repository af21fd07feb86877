"""Gateway benchmark: the model gateway against a minimal aiohttp proxy, direct calls and a MAC-style proxy.

    python bench/gateway.py [--seconds 1.2] [--rounds 3] [--warmup 0.3] [--busy-rounds 3]

One run starts an instant fake upstream (mac.testing.fake_openai) and, each in its own process:
  - the MAC gateway (OpenAI backend to the fake; TCP listener and a unix-socket channel; call log on; a token
    with request, output-token and concurrency quotas, so accounting and reservations are on the path),
  - a minimal aiohttp pass-through proxy (the floor of what a Python proxy costs),
  - a MAC-style proxy: Flask dev server (a thread per request) + requests with keep-alive-only socket options,
    as the published MAC harness does,
  - and direct vs gateway once more against an upstream that takes 20 ms, closer to a real model.
An aiohttp load generator (its own process) drives each target at concurrency 1 and 50 for a fixed time and
reports requests/s, p50 and p99 latency, plus the CPU the serving process spent per request. Targets are measured
in interleaved rounds, because the 2 cores are shared: ratios are taken within each round and their medians
reported. Then the gateway and the minimal proxy are measured again beside a CPU-bound neighbour process (a busy
machine, as when trials run side by side).
Targets (issue 11): CPU per call <= 1.15x the minimal proxy and c=50 throughput >= 0.9x it, quiet and busy;
>= 10x the MAC-style proxy at c=50; at c=1 the minimal proxy's rate (a proxy's c=1 rate is its hop latency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BODY = {"model": "client-model", "messages": [{"role": "user", "content": "Say hello in one word."}], "max_tokens": 16}
CONCURRENCY = (1, 50)
SLOW_UPSTREAM_SEC = 0.02
"""A second upstream with this latency: closer to a real model, where the gateway should cost nothing visible."""
DIRECT, MINIMAL, MAC = "direct (fake upstream)", "minimal aiohttp proxy", "MAC-style Flask proxy"
TCP, UNIX = "gateway, TCP listener", "gateway, unix channel"
SLOW_DIRECT, SLOW_TCP = "direct, 20 ms upstream", "gateway TCP, 20 ms upstream"


# ---- servers (each runs in its own process: `python bench/gateway.py --serve KIND UPSTREAM`) -------------------------

async def _serve_gateway(upstream: str, folder: Path) -> dict[str, Any]:
    from mac.config import Quota
    from mac.gateway import Gateway, OpenAIBackend

    gw = Gateway(OpenAIBackend(upstream, "bench-model"), "bench-model", folder / "gateway.jsonl", folder / "s", tcp_port=0)
    await gw.start()
    grant = gw.grant("bench", Quota(requests=10**9, output_tokens=10**12, concurrent=1000))  # a trial's kinds of limit
    sock = await gw.open_channel(grant.token, "bench-channel")
    return {"tcp": gw.tcp_url, "unix": str(sock), "token": grant.token, "keep": gw}


async def _serve_minimal_proxy(upstream: str) -> dict[str, Any]:
    import aiohttp
    from aiohttp import web

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def forward(request: web.Request) -> web.Response:
        async with session.post(f"{upstream}/chat/completions", data=await request.read(),
                                headers={"Content-Type": "application/json"}) as r:
            return web.Response(body=await r.read(), status=r.status, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return {"tcp": f"http://127.0.0.1:{port}/v1", "keep": (session, runner)}


def _serve_mac_style(upstream: str) -> None:
    import logging

    import requests
    from flask import Flask, Response, request
    from requests.adapters import HTTPAdapter
    from werkzeug.serving import make_server

    class KeepAliveAdapter(HTTPAdapter):  # replaces urllib3's default socket options (which hold TCP_NODELAY)
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["socket_options"] = [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.mount("http://", KeepAliveAdapter(pool_connections=8, pool_maxsize=64))
    app = Flask("mac_style_proxy")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    @app.post("/v1/chat/completions")
    def chat() -> Response:
        data = request.get_json()
        data["model"] = "bench-model"
        r = session.post(f"{upstream}/chat/completions", json=data, timeout=600)
        return Response(r.content, status=r.status_code, content_type="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    print("READY " + json.dumps({"tcp": f"http://127.0.0.1:{server.server_port}/v1"}), flush=True)
    server.serve_forever()


def serve(kind: str, upstream: str) -> None:
    if kind == "mac-style":
        _serve_mac_style(upstream)
        return

    async def main() -> None:
        with tempfile.TemporaryDirectory(prefix="gwb-") as tmp:
            info = await (_serve_gateway(upstream, Path(tmp)) if kind == "gateway" else _serve_minimal_proxy(upstream))
            keep = info.pop("keep")
            stop = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)  # terminate() cleans up
            print("READY " + json.dumps(info), flush=True)
            await stop.wait()
            for resource in keep if isinstance(keep, tuple) else (keep,):
                await (resource.cleanup() if hasattr(resource, "cleanup") else resource.close())

    asyncio.run(main())


# ---- load generator (its own process) -------------------------------------------------------------------------------

async def _drive(target: dict[str, Any], concurrency: int, seconds: float, warmup: float) -> dict[str, Any]:
    import aiohttp

    if target.get("unix"):
        connector: aiohttp.BaseConnector = aiohttp.UnixConnector(path=target["unix"], limit=concurrency)
        url = "http://gateway/v1/chat/completions"
    else:
        connector = aiohttp.TCPConnector(limit=concurrency)
        url = target["tcp"] + "/chat/completions"
    headers = {"Authorization": f"Bearer {target.get('token', 'none')}", "Content-Type": "application/json"}
    data = json.dumps(BODY).encode()
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    async def worker() -> None:
        nonlocal errors
        while (sent := time.perf_counter()) < stop_at:
            async with session.post(url, data=data, headers=headers) as r:
                await r.read()
                ok = r.status == 200
            done = time.perf_counter()
            if sent >= measure_from and done <= stop_at:
                if ok:
                    latencies.append(done - sent)
                else:
                    errors += 1

    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    count = len(latencies)
    pick = lambda q: latencies[min(count - 1, int(q * count))] * 1000 if count else float("nan")  # noqa: E731
    return {"rps": count / seconds, "p50": pick(0.5), "p99": pick(0.99), "count": count, "errors": errors}


def loadgen(target: dict[str, Any], concurrency: int, seconds: float, warmup: float) -> dict[str, Any]:
    return asyncio.run(_drive(target, concurrency, seconds, warmup))


# ---- orchestration ---------------------------------------------------------------------------------------------------

def _start(argv: list[str]) -> tuple[subprocess.Popen, dict[str, Any]]:
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("READY "):
        process.kill()
        raise SystemExit(f"server {argv} did not start: {line!r}")
    payload = line[6:].strip()
    return process, (json.loads(payload) if payload.startswith("{") else {"tcp": payload})


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1.2, help="measured time per target, concurrency and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--busy-rounds", type=int, default=3, help="rounds beside a CPU-bound neighbour")
    parser.add_argument("--warmup", type=float, default=0.3)
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "UPSTREAM"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    processes: list[subprocess.Popen] = []
    try:
        rows = _start_targets(processes)
        quiet = run_all(rows, args.seconds, args.warmup, args.rounds)
        neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        processes.append(neighbour)
        try:
            busy = run_all([r for r in rows if r[0] in (MINIMAL, TCP, UNIX)], args.seconds, args.warmup,
                           args.busy_rounds, tag="busy ")
        finally:
            neighbour.kill()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
    report(quiet, busy)


def _start_targets(processes: list[subprocess.Popen]) -> list[tuple[str, tuple[subprocess.Popen, dict[str, Any]]]]:
    """Start every server (appending to `processes` for cleanup) and name the rows to measure."""
    me, py = str(Path(__file__).resolve()), sys.executable

    def start(argv: list[str]) -> tuple[subprocess.Popen, dict[str, Any]]:
        server = _start(argv)
        processes.append(server[0])
        return server

    upstream = start([py, "-m", "mac.testing.fake_openai", "--port", "0"])
    slow = start([py, "-m", "mac.testing.fake_openai", "--port", "0", "--delay", str(SLOW_UPSTREAM_SEC)])
    servers = {kind: start([py, me, "--serve", kind, upstream[1]["tcp"]])
               for kind in ("gateway", "minimal-proxy", "mac-style")}
    servers["gateway-slow"] = start([py, me, "--serve", "gateway", slow[1]["tcp"]])

    def via(kind: str, channel: str) -> tuple[subprocess.Popen, dict[str, Any]]:
        process, info = servers[kind]
        return process, {channel: info[channel], "token": info["token"]}

    rows = [(DIRECT, upstream), (MINIMAL, servers["minimal-proxy"]), (TCP, via("gateway", "tcp")),
            (UNIX, via("gateway", "unix")), (MAC, servers["mac-style"])]
    return rows + [(SLOW_DIRECT, slow), (SLOW_TCP, via("gateway-slow", "tcp"))]


Rounds = dict[tuple[str, int], list[dict[str, Any]]]
"""(target, concurrency) -> one result per round."""


def run_all(rows: list[tuple[str, tuple[subprocess.Popen, dict[str, Any]]]], seconds: float, warmup: float,
            rounds: int, tag: str = "") -> Rounds:
    """Measure every target in `rounds` interleaved rounds (the machine is shared)."""
    samples: Rounds = {}
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        for round_no in range(rounds):
            # Concurrency outermost: the targets compared in a ratio are measured back to back.
            for concurrency in CONCURRENCY:
                for name, (process, target) in rows:
                    result = _measure(pool, process, target, concurrency, seconds, warmup)
                    samples.setdefault((name, concurrency), []).append(result)
                    print(f"  {tag}round {round_no + 1}: {name:<28} c={concurrency:<3} {result['rps']:>8.0f} req/s",
                          file=sys.stderr, flush=True)
    return samples


def _measure(pool: Any, process: subprocess.Popen, target: dict[str, Any], concurrency: int, seconds: float,
             warmup: float) -> dict[str, Any]:
    """One load-generator run, plus the CPU the serving process spent per request."""
    cpu_before = _cpu_seconds(process.pid)
    result = pool.apply(loadgen, (target, concurrency, seconds, warmup))
    cpu_after = _cpu_seconds(process.pid)
    total = result["count"] + result["errors"]
    if cpu_before is not None and cpu_after is not None and total >= 200:  # 10 ms clock ticks
        # CPU over warm-up and measurement, spread over the requests of both (an estimate)
        result["cpu_us"] = (cpu_after - cpu_before) / (total * (seconds + warmup) / seconds) * 1e6
    return result


def _median(runs: list[dict[str, Any]], field: str) -> float:
    values = [r[field] for r in runs if field in r]
    return statistics.median(values) if values else float("nan")


def _ratio(samples: Rounds, a: str, b: str, c: int, field: str = "rps") -> float:
    """The median over rounds of a/b, each round's pair measured back to back."""
    pairs = [x[field] / y[field] for x, y in zip(samples[(a, c)], samples[(b, c)]) if field in x and field in y and y[field]]
    return statistics.median(pairs) if pairs else float("nan")


def _table(samples: Rounds, title: str) -> None:
    print(f"\n{title}\n{'target':<28} {'c':>3} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11} {'errors':>6}")
    for (name, c), runs in samples.items():
        cpu = _median(runs, "cpu_us")
        print(f"{name:<28} {c:>3} {_median(runs, 'rps'):>9.0f} {_median(runs, 'p50'):>8.2f} {_median(runs, 'p99'):>8.2f} "
              f"{'-' if cpu != cpu else f'{cpu:.0f}':>11} {_median(runs, 'errors'):>6.0f}")


def report(quiet: Rounds, busy: Rounds) -> None:
    _table(quiet, "quiet machine (medians over rounds)")
    _table(busy, "busy machine: a CPU-bound neighbour process (medians over rounds)")
    hi, lo = CONCURRENCY[-1], CONCURRENCY[0]
    both = lambda f: f"{f(quiet):>6.2f}x quiet  {f(busy):>6.2f}x busy"  # noqa: E731
    print("\nratios (median of per-round ratios)")
    print(f"  CPU per call, gateway TCP / minimal proxy, c={hi}:  {both(lambda r: _ratio(r, TCP, MINIMAL, hi, 'cpu_us'))}"
          "   target <= 1.15x")
    print(f"  CPU per call, gateway unix / minimal proxy, c={hi}: {both(lambda r: _ratio(r, UNIX, MINIMAL, hi, 'cpu_us'))}")
    print(f"  throughput, gateway TCP / minimal proxy, c={hi}:    {both(lambda r: _ratio(r, TCP, MINIMAL, hi))}"
          "   target >= 0.9x")
    print(f"  throughput, gateway unix / minimal proxy, c={hi}:   {both(lambda r: _ratio(r, UNIX, MINIMAL, hi))}")
    print(f"  throughput, gateway TCP / minimal proxy, c={lo}:     {both(lambda r: _ratio(r, TCP, MINIMAL, lo))}"
          "   target ~1x (hop latency)")
    print(f"  throughput, gateway TCP / MAC-style proxy, c={hi}:  {_ratio(quiet, TCP, MAC, hi):>6.1f}x quiet"
          f"   target >= 10x (c={lo}: {_ratio(quiet, TCP, MAC, lo):.1f}x)")
    print(f"  throughput, gateway TCP / direct, c={hi}:           {_ratio(quiet, TCP, DIRECT, hi):>6.2f}x quiet"
          f"   (with a {SLOW_UPSTREAM_SEC * 1000:.0f} ms upstream: {_ratio(quiet, SLOW_TCP, SLOW_DIRECT, hi):.2f}x)")
    added = lambda a, base, c: _median(quiet[(a, c)], "p50") - _median(quiet[(base, c)], "p50")  # noqa: E731
    print(f"  added p50 over direct, c={lo}: TCP {added(TCP, DIRECT, lo):+.2f} ms, unix {added(UNIX, DIRECT, lo):+.2f} ms; "
          f"with a {SLOW_UPSTREAM_SEC * 1000:.0f} ms upstream c={lo} {added(SLOW_TCP, SLOW_DIRECT, lo):+.2f} ms, "
          f"c={hi} {added(SLOW_TCP, SLOW_DIRECT, hi):+.2f} ms")


if __name__ == "__main__":
    main()
