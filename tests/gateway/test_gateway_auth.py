"""Tokens, channels and the call log of the gateway, over real unix sockets and loopback TCP."""

from __future__ import annotations

import json
import stat

import aiohttp
import pytest

import mac.gateway
from mac.config import Quota, TaskModelSpec
from mac.errors import GatewayError
from mac.evidence import EvidenceLog
from mac.gateway import Gateway, make_backend

from gwkit import UNIX_BASE, chat, get, run, short_dir, sim_gateway, synthetic_items, unix_session, user


def test_public_api_is_exported_and_sorted() -> None:
    assert mac.gateway.__all__ == sorted(mac.gateway.__all__)
    for name in ("Gateway", "Grant", "make_backend", "SimBackend", "OpenAIBackend", "SimConfig"):
        assert name in mac.gateway.__all__ and hasattr(mac.gateway, name)


def test_channel_is_a_world_connectable_socket_in_a_traversable_folder() -> None:
    async def main() -> None:
        async with sim_gateway(model_name="forced-name") as gw:
            grant = gw.grant("dev", Quota(), label="trial-1")
            sock = await gw.open_channel(grant.token, "dev-eval-1")
            assert stat.S_ISSOCK(sock.stat().st_mode) and stat.S_IMODE(sock.stat().st_mode) == 0o666
            assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o711
            async with unix_session(sock) as session:
                status, body = await chat(session, UNIX_BASE, grant.token, user("hello", model="gpt-4o"))
            assert status == 200 and body["model"] == "forced-name"
            second = await gw.open_channel(grant.token, "dev-eval-2")
            assert second != sock and second.parent != sock.parent
            await gw.close_channel(sock)
            assert not sock.exists() and not sock.parent.exists()

    run(main())


def test_unknown_and_missing_tokens_get_401_and_evidence_on_channels() -> None:
    async def main() -> None:
        evidence = EvidenceLog()
        async with sim_gateway(evidence=evidence) as gw:
            grant = gw.grant("dev", Quota())
            sock = await gw.open_channel(grant.token, "sandbox-a")
            async with unix_session(sock) as session:
                assert (await chat(session, UNIX_BASE, "mac-guessed", user("hi")))[0] == 401
                async with session.post(f"{UNIX_BASE}/chat/completions", json=user("hi")) as r:
                    assert r.status == 401
                    assert (await r.json())["error"]["type"] == "invalid_api_key"
            records = evidence.records("unknown_token")
            assert len(records) == 2 and records[0]["channel"] == "sandbox-a"
            assert "mac-guessed" not in json.dumps(records)

    run(main())


def test_foreign_token_on_a_channel_is_refused_and_recorded() -> None:
    async def main() -> None:
        evidence = EvidenceLog()
        async with sim_gateway(evidence=evidence) as gw:
            mine, other = gw.grant("dev", Quota(), "a"), gw.grant("verify", Quota(), "b")
            sock = await gw.open_channel(mine.token, "sandbox-a")
            async with unix_session(sock) as session:
                status, body = await chat(session, UNIX_BASE, other.token, user("hi"))
                assert status == 401 and "not valid on this channel" in body["error"]["message"]
                assert (await get(session, f"{UNIX_BASE}/stats", other.token))[0] == 401
                assert (await chat(session, UNIX_BASE, mine.token, user("hi")))[0] == 200
            async with aiohttp.ClientSession() as session:  # the trusted TCP listener takes any valid token
                assert (await chat(session, gw.tcp_url, other.token, user("hi")))[0] == 200
            (first, _) = evidence.records("foreign_token")
            assert first["token_id"] == other.token_id and first["channel_token_id"] == mine.token_id
            assert first["channel"] == "sandbox-a" and first["source"] == "gateway"
            assert gw.usage(other.token).refused == 2 and gw.usage(other.token).requests == 1

    run(main())


def test_revoked_token_gets_401_everywhere_and_is_recorded() -> None:
    async def main() -> None:
        evidence = EvidenceLog()
        async with sim_gateway(evidence=evidence) as gw:
            grant = gw.grant("dev", Quota())
            sock = await gw.open_channel(grant.token, "dev-sandbox")
            async with unix_session(sock) as unix, aiohttp.ClientSession() as tcp:
                assert (await chat(unix, UNIX_BASE, grant.token, user("hi")))[0] == 200
                gw.revoke(grant.token)
                status, body = await chat(unix, UNIX_BASE, grant.token, user("hi"))
                assert status == 401 and "revoked" in body["error"]["message"]
                assert (await chat(tcp, gw.tcp_url, grant.token, user("hi")))[0] == 401
                assert (await get(tcp, f"{gw.tcp_url}/models", grant.token))[0] == 401
            assert [r["channel"] for r in evidence.records("revoked_token")] == ["dev-sandbox", "tcp", "tcp"]
            assert gw.usage(grant.token).requests == 1 and gw.usage(grant.token).refused == 3

    run(main())


def test_closed_channel_accepts_no_new_connections() -> None:
    async def main() -> None:
        async with sim_gateway() as gw:
            grant = gw.grant("dev", Quota())
            sock = await gw.open_channel(grant.token, "gone")
            await gw.close_channel(sock)
            async with unix_session(sock) as session:
                with pytest.raises(aiohttp.ClientConnectorError):
                    await chat(session, UNIX_BASE, grant.token, user("hi"))

    run(main())


def test_models_and_stats_show_the_forced_model_and_what_is_left() -> None:
    async def main() -> None:
        async with sim_gateway(model_name="the-model") as gw:
            grant = gw.grant("dev", Quota(requests=10, output_tokens=100_000), label="trial-7")
            async with aiohttp.ClientSession() as session:
                status, models = await get(session, f"{gw.tcp_url}/models", grant.token)
                assert status == 200 and [m["id"] for m in models["data"]] == ["the-model"]
                assert (await get(session, f"{gw.tcp_url}/models/anything", grant.token))[1]["id"] == "the-model"
                await chat(session, gw.tcp_url, grant.token, user("hi", n=3))
                status, stats = await get(session, f"{gw.tcp_url}/stats", grant.token)
            assert status == 200 and stats["token_id"] == grant.token_id and stats["label"] == "trial-7"
            assert stats["usage"]["requests"] == 3 and stats["remaining"]["requests"] == 7
            assert stats["remaining"]["output_tokens"] == 100_000 - stats["usage"]["output_tokens"]
            assert stats["remaining"]["rpm"] is None and stats["simulated"] is True
            assert gw.tcp_url.startswith("http://127.0.0.1:") and gw.tcp_url.endswith("/v1")

    run(main())


def test_api_misuse_raises_gateway_errors_that_name_the_fix() -> None:
    async def main() -> None:
        with short_dir() as folder:
            gw = Gateway(make_backend(TaskModelSpec()), "m", None, folder / "s")
            grant = gw.grant("dev", Quota())
            with pytest.raises(GatewayError, match="not started"):
                await gw.open_channel(grant.token, "x")
            async with gw:
                with pytest.raises(GatewayError, match="Gateway.grant"):
                    await gw.open_channel("mac-not-a-grant", "x")
            assert gw.tcp_url is None

    run(main())


def test_call_log_has_every_call_and_no_secret() -> None:
    async def main() -> None:
        items = synthetic_items(3)
        async with sim_gateway(items, model_name="logged-model") as gw:
            grant = gw.grant("dev", Quota(requests=2), label="trial-3")
            sock = await gw.open_channel(grant.token, "eval-9")
            async with unix_session(sock) as session:
                await chat(session, UNIX_BASE, grant.token, user(items[0].question))
                await chat(session, UNIX_BASE, grant.token, user(items[1].question, stream=True))
                await chat(session, UNIX_BASE, grant.token, user("over quota"))
                await chat(session, UNIX_BASE, "mac-wrong", user("bad token"))
            text = gw.log_path.read_text()
        lines = [json.loads(line) for line in text.splitlines()]
        assert [line["status"] for line in lines] == [200, 200, 429, 401]
        assert grant.token not in text and "mac-wrong" not in text
        assert grant.token not in repr(grant) and grant.token_id in repr(grant)
        ok = lines[0]
        assert ok["token_id"] == grant.token_id and ok["phase"] == "dev" and ok["label"] == "trial-3"
        assert ok["channel"] == "eval-9" and ok["model"] == "logged-model" and len(ok["request_sha256"]) == 64
        assert ok["n"] == 1 and ok["stream"] is False and ok["input_tokens"] > 0 and ok["output_tokens"] > 0
        assert ok["latency_ms"] >= 0 and ok["quota"] is None and ok["v"] == 1
        assert lines[1]["stream"] is True and lines[1]["output_tokens"] > 0
        assert lines[2]["quota"] == "requests" and lines[3]["token_id"] is None

    run(main())
