"""The egress proxy over its real unix socket: allowlisted hosts pass (CONNECT tunnels and plain forwarding to a
loopback upstream), everything else gets 403 without a connection, and every attempt is logged and evidenced.
No test connects to a non-loopback address: a denied host is never contacted."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from pathlib import Path

import pytest
from aiohttp import web

from mac.egress import HOST_ALIAS, Allowlist, EgressProxy
from mac.errors import ConfigError
from mac.evidence import EvidenceLog


@pytest.fixture
def folder() -> Path:
    path = Path(tempfile.mkdtemp(prefix="egress-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _upstream() -> tuple[web.AppRunner, int, list[dict]]:
    """A loopback HTTP server standing in for an allowed model API host; records what it received."""
    seen: list[dict] = []

    async def echo(request: web.Request) -> web.Response:
        seen.append({"path": request.path_qs, "headers": dict(request.headers), "body": await request.text()})
        return web.Response(text=f"upstream saw {request.method} {request.path_qs}")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1], seen


async def _exchange(sock: Path, *messages: bytes) -> bytes:
    """Send `messages` one after another on one connection to the proxy, reading the reply after each."""
    reader, writer = await asyncio.open_unix_connection(str(sock))
    replies = b""
    try:
        for message in messages:
            writer.write(message)
            await writer.drain()
            if message.startswith(b"CONNECT"):
                replies += await reader.readuntil(b"\r\n\r\n")
                if b" 200 " not in replies.split(b"\r\n")[0]:
                    replies += await reader.read()
                    break
            else:
                replies += await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    return replies


def _get(target: str, host: str, extra: str = "") -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode()


async def _with_proxy(folder: Path, allow: list[str], scenario):
    runner, port, seen = await _upstream()
    evidence = EvidenceLog(folder / "evidence.jsonl")
    proxy = EgressProxy([a.replace("PORT", str(port)) for a in allow], log_path=folder / "egress.jsonl",
                        evidence=evidence, label="t/meta-agent")
    try:
        sock = await proxy.start(folder / "egress.sock")
        result = await scenario(sock, port)
    finally:
        await proxy.close()
        await runner.cleanup()
    log = [json.loads(line) for line in (folder / "egress.jsonl").read_text().splitlines()]
    return result, seen, log, evidence.records()


def test_connect_tunnel_to_allowed_host_passes_and_is_logged(folder: Path):
    async def scenario(sock, port):
        return await _exchange(sock, f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode(),
                               _get("/v1/models", f"127.0.0.1:{port}"))

    reply, seen, log, evidence = asyncio.run(_with_proxy(folder, ["127.0.0.1:PORT"], scenario))
    assert reply.startswith(b"HTTP/1.1 200 Connection established")
    assert b"upstream saw GET /v1/models" in reply
    assert [s["path"] for s in seen] == ["/v1/models"]
    assert [(r["method"], r["allowed"], r["decision"]) for r in log] == [("CONNECT", True, "allow")]
    assert [(e["source"], e["kind"], e["host"]) for e in evidence] == [("egress", "egress_allowed", "127.0.0.1")]


def test_plain_forward_to_allowed_host_is_rewritten_to_origin_form(folder: Path):
    async def scenario(sock, port):
        return await _exchange(sock, _get(f"http://127.0.0.1:{port}/v1/chat?x=1", f"127.0.0.1:{port}",
                                          "Proxy-Authorization: Basic c2VjcmV0\r\nProxy-Connection: keep-alive\r\n"))

    reply, seen, log, _ = asyncio.run(_with_proxy(folder, ["127.0.0.1:PORT"], scenario))
    assert reply.startswith(b"HTTP/1.1 200")
    assert b"upstream saw GET /v1/chat?x=1" in reply
    headers = {k.lower() for k in seen[0]["headers"]}
    assert "proxy-authorization" not in headers and "proxy-connection" not in headers
    assert log[0]["allowed"] is True and log[0]["url"].startswith("http://127.0.0.1:")


def test_everything_else_is_denied_with_403_and_logged(folder: Path):
    async def scenario(sock, port):
        replies = []
        for message in (b"CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n",
                        b"CONNECT huggingface.co:443 HTTP/1.1\r\n\r\n",
                        _get("http://example.com/data.json", "example.com"),
                        f"CONNECT 127.0.0.1:{port + 1 if port < 65535 else port - 1} HTTP/1.1\r\n\r\n".encode(),
                        b"CONNECT 10.0.0.1:443 HTTP/1.1\r\n\r\n"):
            replies.append(await _exchange(sock, message))
        return replies

    replies, seen, log, evidence = asyncio.run(_with_proxy(folder, ["127.0.0.1:PORT"], scenario))
    assert all(r.startswith(b"HTTP/1.1 403 Forbidden") for r in replies), replies
    assert b"not on this trial's allowlist" in replies[0]
    assert seen == []
    assert [r["host"] for r in log] == ["api.openai.com", "huggingface.co", "example.com", "127.0.0.1", "10.0.0.1"]
    assert all(r["allowed"] is False and r["decision"] == "deny" for r in log)
    assert [e["kind"] for e in evidence] == ["egress_denied"] * 5
    assert evidence[1]["host"] == "huggingface.co" and evidence[1]["label"] == "t/meta-agent"


def test_requests_that_are_not_proxy_requests_get_400_and_are_logged(folder: Path):
    async def scenario(sock, port):
        return [await _exchange(sock, _get("/v1/models", "anything")),
                await _exchange(sock, b"CONNECT nowhere HTTP/1.1\r\n\r\n"),
                await _exchange(sock, _get("https://api.openai.com/v1", "api.openai.com"))]

    replies, seen, log, evidence = asyncio.run(_with_proxy(folder, ["127.0.0.1:PORT"], scenario))
    assert all(r.startswith(b"HTTP/1.1 400") for r in replies)
    assert len(log) == 3 and all(r["allowed"] is False for r in log)
    assert seen == [] and len(evidence) == 3


def test_empty_allowlist_denies_everything(folder: Path):
    async def scenario(sock, port):
        return await _exchange(sock, f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode())

    reply, seen, log, _ = asyncio.run(_with_proxy(folder, [], scenario))
    assert reply.startswith(b"HTTP/1.1 403") and b"allowed: nothing" in reply
    assert seen == [] and log[0]["allowed"] is False


def test_host_alias_reaches_the_controller_loopback_on_the_allowed_port_only(folder: Path):
    async def scenario(sock, port):
        ok = await _exchange(sock, _get(f"http://{HOST_ALIAS}:{port}/v1/models", f"{HOST_ALIAS}:{port}"))
        other = await _exchange(sock, _get(f"http://{HOST_ALIAS}/v1/models", HOST_ALIAS))
        return ok, other

    (ok, other), seen, log, _ = asyncio.run(_with_proxy(folder, [f"{HOST_ALIAS}:PORT"], scenario))
    assert ok.startswith(b"HTTP/1.1 200") and b"upstream saw GET /v1/models" in ok
    assert other.startswith(b"HTTP/1.1 403")
    assert [r["allowed"] for r in log] == [True, False] and len(seen) == 1


def test_allowlist_rules():
    rules = Allowlist(["API.Anthropic.com", "*.googleapis.com", "host.mac.internal:8000",
                       "https://chatgpt.com/backend-api/codex"])
    assert rules.allows("api.anthropic.com", 443) and rules.allows("api.anthropic.com", 80)
    assert not rules.allows("api.anthropic.com", 8443)
    assert rules.allows("generativelanguage.googleapis.com", 443)
    assert not rules.allows("googleapis.com.evil.example", 443) and not rules.allows("googleapis.com", 443)
    assert rules.allows("host.mac.internal", 8000) and not rules.allows("host.mac.internal", 443)
    assert rules.allows("chatgpt.com", 443)
    assert not rules.allows("anthropic.com", 443)
    assert rules.entries() == ["api.anthropic.com", "*.googleapis.com", "host.mac.internal:8000", "chatgpt.com"]
    for bad in ("*", "a b", "host:99999", "*.x*.com"):
        with pytest.raises(ConfigError):
            Allowlist([bad])
