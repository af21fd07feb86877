"""The `openai` backend behind the gateway, against the fake upstream: names, keys, errors, timeouts, SDKs."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import aiohttp
import openai
import pytest

try:  # the HTTP library the installed openai SDK is built on
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older openai releases
    import httpx  # type: ignore[no-redef]

from mac.config import Quota, TaskModelSpec
from mac.errors import GatewayError
from mac.gateway import OpenAIBackend, make_backend
from mac.testing.fake_openai import FakeOpenAI, FakeReply

from gwkit import UNIX_BASE, UPSTREAM_KEY, chat, gateway, get, run, upstream_backend, user


def test_model_name_is_forced_upstream_and_in_replies_and_stream_chunks() -> None:
    async def main() -> None:
        async with FakeOpenAI("pong") as fake, gateway(upstream_backend(fake), model_name="public-name") as gw:
            grant = gw.grant("dev", Quota())
            async with aiohttp.ClientSession() as s:
                status, body = await chat(s, gw.tcp_url, grant.token, user("ping", model="gpt-5-pro"))
                _, events = await chat(s, gw.tcp_url, grant.token, user("ping", model="other", stream=True))
            assert status == 200 and body["model"] == "public-name" and body["choices"][0]["message"]["content"] == "pong"
            assert [r.body["model"] for r in fake.received] == ["upstream-model", "upstream-model"]
            chunks = [json.loads(e) for e in events[:-1]]
            assert chunks and {c["model"] for c in chunks} == {"public-name"}
            assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "pong"

    run(main())


def test_replies_that_already_name_the_model_pass_through_unchanged() -> None:
    async def main() -> None:
        async with FakeOpenAI("pong") as fake, gateway(OpenAIBackend(fake.url, "same-name"), model_name="same-name") as gw:
            grant = gw.grant("dev", Quota())
            async with aiohttp.ClientSession() as s:
                status, body = await chat(s, gw.tcp_url, grant.token, user("ping", n=2))
            assert status == 200 and body["id"] == "chatcmpl-fake" and body["model"] == "same-name"
            assert gw.usage(grant.token).output_tokens == body["usage"]["completion_tokens"] == 2

    run(main())


def test_upstream_key_comes_from_the_controller_env_and_never_leaks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAC_TEST_UPSTREAM_KEY", UPSTREAM_KEY)

    async def main() -> None:
        async with FakeOpenAI("pong", api_key=UPSTREAM_KEY) as fake:
            spec = TaskModelSpec(backend="openai", name="upstream-model", base_url=fake.url, api_key_env="MAC_TEST_UPSTREAM_KEY")
            backend = make_backend(spec)
            assert isinstance(backend, OpenAIBackend) and UPSTREAM_KEY not in repr(backend)
            async with gateway(backend) as gw:
                grant = gw.grant("dev", Quota())
                async with aiohttp.ClientSession() as s:
                    ok = await chat(s, gw.tcp_url, grant.token, user("ping"))
                    fake.push(FakeReply(status=400, error="rejected request made with {auth}"))
                    echoed = await chat(s, gw.tcp_url, grant.token, user("ping"))
                    streamed = await chat(s, gw.tcp_url, grant.token, user("ping", stream=True))
                log = gw.log_path.read_text()
            assert ok[0] == 200 and streamed[0] == 200
            assert fake.received[0].headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
            assert grant.token not in fake.received[0].headers["authorization"]
            assert echoed[0] == 400 and "***" in echoed[1]["error"]["message"]
            for text in (json.dumps(ok), json.dumps(echoed), json.dumps(streamed), log):
                assert UPSTREAM_KEY not in text

    run(main())


def test_a_placeholder_key_is_sent_but_not_scrubbed_from_text() -> None:
    async def main() -> None:
        async with FakeOpenAI("The set is EMPTY.", api_key="EMPTY") as fake, gateway(OpenAIBackend(fake.url, "m", "EMPTY")) as gw:
            grant = gw.grant("dev", Quota())
            async with aiohttp.ClientSession() as s:
                status, body = await chat(s, gw.tcp_url, grant.token, user("a"))
            assert status == 200 and body["choices"][0]["message"]["content"] == "The set is EMPTY."

    run(main())


def test_upstream_errors_pass_through_and_cost_no_requests() -> None:
    async def main() -> None:
        async with FakeOpenAI("pong", api_key=UPSTREAM_KEY) as fake:
            fake.push(FakeReply(status=500, error="upstream overloaded"), FakeReply(status=429, error="slow down"))
            async with gateway(upstream_backend(fake)) as gw:
                grant = gw.grant("dev", Quota(requests=1))
                async with aiohttp.ClientSession() as s:
                    status, body = await chat(s, gw.tcp_url, grant.token, user("a"))
                    assert status == 500 and body["error"]["message"] == "upstream overloaded"
                    status, body = await chat(s, gw.tcp_url, grant.token, user("a", stream=True))
                    assert status == 429 and body["error"]["type"] == "upstream_error"  # not a quota refusal
                    assert (await chat(s, gw.tcp_url, grant.token, user("a")))[0] == 200
                    _, stats = await get(s, f"{gw.tcp_url}/stats", grant.token)
                usage = gw.usage(grant.token)
                # The 500 counts as an upstream failure; the upstream's 429 is a refusal of the caller's pace.
                assert usage.requests == 1 and usage.upstream_errors == 1 and usage.refused == 0
                assert stats["usage"]["upstream_errors"] == 1
            async with gateway(OpenAIBackend(fake.url, "m", "sk-wrong")) as gw:
                grant = gw.grant("dev", Quota())
                async with aiohttp.ClientSession() as s:
                    status, body = await chat(s, gw.tcp_url, grant.token, user("a"))
                # The upstream refusing the controller's key must not look like the caller's token being bad.
                assert status == 502 and "credentials" in body["error"]["message"]
                assert gw.usage(grant.token).upstream_errors == 1 and gw.usage(grant.token).refused == 0

    run(main())


def test_unreachable_upstream_gives_502() -> None:
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def main() -> None:
        async with gateway(OpenAIBackend(f"http://127.0.0.1:{port}/v1", "m")) as gw:
            grant = gw.grant("dev", Quota())
            async with aiohttp.ClientSession() as s:
                status, body = await chat(s, gw.tcp_url, grant.token, user("a"))
            assert status == 502 and "cannot reach" in body["error"]["message"]
            assert gw.usage(grant.token).upstream_errors == 1

    run(main())


def test_hung_upstream_times_out_with_504() -> None:
    async def main() -> None:
        async with FakeOpenAI("late", delay_sec=3.0) as fake, gateway(upstream_backend(fake, timeout_sec=0.3)) as gw:
            grant = gw.grant("dev", Quota(concurrent=1))
            async with aiohttp.ClientSession() as s:
                started = time.monotonic()
                status, body = await chat(s, gw.tcp_url, grant.token, user("a"))
                assert status == 504 and "in time" in body["error"]["message"]
                assert (await chat(s, gw.tcp_url, grant.token, user("a", stream=True)))[0] == 504
                assert time.monotonic() - started < 2.5
                _, stats = await get(s, f"{gw.tcp_url}/stats", grant.token)
            assert stats["in_flight"] == 0 and stats["usage"]["requests"] == 0
            assert stats["usage"]["upstream_errors"] == 2 and stats["usage"]["refused"] == 0

    run(main())


def test_unmodified_openai_sdk_over_a_unix_channel_and_tcp() -> None:
    async def main() -> None:
        async with FakeOpenAI("four") as fake, gateway(upstream_backend(fake), model_name="task-model") as gw:
            grant = gw.grant("dev", Quota(requests=10))
            sock = await gw.open_channel(grant.token, "sdk-sandbox")
            transport = httpx.AsyncHTTPTransport(uds=str(sock))
            async with httpx.AsyncClient(transport=transport) as http:
                client = openai.AsyncOpenAI(api_key=grant.token, base_url=UNIX_BASE, http_client=http, max_retries=0)
                reply = await client.chat.completions.create(model="whatever", n=2,
                                                             messages=[{"role": "user", "content": "2+2?"}])
                assert reply.model == "task-model" and [c.message.content for c in reply.choices] == ["four", "four"]
                stream = await client.chat.completions.create(model="whatever", stream=True,
                                                              messages=[{"role": "user", "content": "2+2?"}])
                text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
                assert text == "four"
                with pytest.raises(openai.AuthenticationError):
                    await openai.AsyncOpenAI(api_key="mac-bad", base_url=UNIX_BASE, http_client=http,
                                             max_retries=0).models.list()
            client = openai.AsyncOpenAI(api_key=grant.token, base_url=gw.tcp_url, max_retries=0)
            models = await client.models.list()
            assert [m.id for m in models.data] == ["task-model"]
            await client.close()
            assert gw.usage(grant.token).requests == 3

    run(main())


def test_upstream_connections_keep_tcp_nodelay() -> None:
    async def main() -> None:
        async with FakeOpenAI("pong", chunk_delay_sec=0.05) as fake:  # a slow stream keeps the connection busy
            backend = upstream_backend(fake)
            await backend.start()
            try:
                async with backend.session.post(f"{fake.url}/chat/completions", json=user("a", stream=True)) as response:
                    sock = response.connection.transport.get_extra_info("socket")
                    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                    await response.read()
            finally:
                await backend.close()

    run(main())


def test_bad_requests_get_400() -> None:
    async def main() -> None:
        async with FakeOpenAI("pong") as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota())
            async with aiohttp.ClientSession() as s:
                for body in ({"messages": []}, {"messages": [{"role": "user", "content": "a"}], "n": 0},
                             {"messages": [{"role": "user", "content": "a"}], "max_tokens": -1}):
                    status, reply = await chat(s, gw.tcp_url, grant.token, body)
                    assert status == 400 and reply["error"]["type"] == "invalid_request_error"
                async with s.post(f"{gw.tcp_url}/chat/completions", data=b"{not json",
                                  headers={"Authorization": f"Bearer {grant.token}"}) as r:
                    assert r.status == 400
            assert fake.received == [] and gw.usage(grant.token).requests == 0

    run(main())


def test_base_url_must_be_http() -> None:
    with pytest.raises(GatewayError, match="http://"):
        OpenAIBackend("127.0.0.1:8000/v1", "m")


def test_backend_is_usable_only_after_start() -> None:
    async def main() -> None:
        with pytest.raises(GatewayError, match="not started"):
            await OpenAIBackend("http://127.0.0.1:9/v1", "m").complete(user("a"), "caller")

    run(main())


def test_a_client_leaving_mid_stream_is_charged_for_what_streamed_and_frees_its_slot() -> None:
    async def main() -> None:
        long_reply = "y" * 400  # 50 chunks of 8 characters, 20 ms apart
        async with FakeOpenAI(long_reply, chunk_delay_sec=0.02) as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota(concurrent=1))
            async with aiohttp.ClientSession() as s:
                async with s.post(f"{gw.tcp_url}/chat/completions", json=user("a", stream=True),
                                  headers={"Authorization": f"Bearer {grant.token}"}) as r:
                    assert r.status == 200
                    await r.content.readline()
                await asyncio.sleep(0.3)
                _, stats = await get(s, f"{gw.tcp_url}/stats", grant.token)
            assert stats["in_flight"] == 0
            assert 0 < stats["usage"]["output_tokens"] < 100
            lines = [json.loads(line) for line in gw.log_path.read_text().splitlines()]
            assert lines[-1]["error"] == "client_disconnected"

    run(main())
