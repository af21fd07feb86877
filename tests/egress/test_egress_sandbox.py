"""The egress proxy relayed into a real bwrap sandbox, as the trial wires it for the meta-agent: with the proxy
variables set, curl reaches the allowlisted loopback upstream (by the host alias) and is refused everything else
(403, logged); without the proxy there is no route out at all (asked without sending a packet)."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from aiohttp import web

from mac.egress import EGRESS_PORT, HOST_ALIAS, EgressProxy, proxy_environment
from mac.evidence import EvidenceLog
from mac.paths import scratch_home
from mac.sandbox.base import Relay, SandboxSpec
from mac.sandbox.bwrap import BwrapBackend

SCRIPT = """
import socket, subprocess
def curl(url):
    done = subprocess.run(["curl", "-sS", "-m", "10", "-o", "/dev/stdout", "-w", " code=%{{http_code}}", url],
                          capture_output=True, text=True)
    return (done.stdout + done.stderr).replace("\\n", " ").strip()
print("allowed:", curl("http://{alias}:{port}/v1/models"))
print("denied:", curl("https://api.openai.com/v1/models"))
print("denied-http:", curl("http://example.com/"))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect(("1.1.1.1", 53)); print("route:", s.getsockname())
except OSError as exc:
    print("route: none", exc.errno)
"""


@pytest.fixture
def box() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="test-egress-", dir=scratch_home()))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


async def _scenario(box: Path) -> tuple[str, list[dict], list[dict]]:
    async def models(request: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "meta-model"}]})

    app = web.Application()
    app.router.add_get("/v1/models", models)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    evidence = EvidenceLog()
    (box / "egress").mkdir(mode=0o711)
    (box / "ws").mkdir(mode=0o755)
    proxy = EgressProxy([f"{HOST_ALIAS}:{port}"], log_path=box / "egress.jsonl", evidence=evidence, label="t/dev")
    try:
        sock = await proxy.start(box / "egress" / "egress.sock")
        spec = SandboxSpec(label="t/dev", role="dev", argv=["python", "-c", SCRIPT.format(alias=HOST_ALIAS, port=port)],
                           env=proxy_environment(EGRESS_PORT), workspace=box / "ws", workspace_writable=True,
                           relays=[Relay(socket=sock, port=EGRESS_PORT)])
        result = await BwrapBackend(evidence=evidence).run(spec)
    finally:
        await proxy.close()
        await runner.cleanup()
    log = [json.loads(line) for line in (box / "egress.jsonl").read_text().splitlines()]
    return result.stdout + result.stderr, log, evidence.records()


def test_sandbox_reaches_only_the_allowlist_through_the_relayed_proxy(box: Path):
    out, log, evidence = asyncio.run(_scenario(box))
    lines = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    assert "meta-model" in lines["allowed"] and "code=200" in lines["allowed"], out
    assert "403" in lines["denied"] and "meta-model" not in lines["denied"], out
    assert "code=403" in lines["denied-http"], out
    assert lines["route"].startswith("none"), out
    assert [(r["host"], r["allowed"]) for r in log] == [(HOST_ALIAS, True), ("api.openai.com", False),
                                                         ("example.com", False)]
    kinds = [e["kind"] for e in evidence if e["source"] == "egress"]
    assert kinds == ["egress_allowed", "egress_denied", "egress_denied"]
