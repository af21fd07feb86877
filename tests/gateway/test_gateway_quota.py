"""Every quota of a token, against a fake OpenAI-compatible upstream behind the real gateway."""

from __future__ import annotations

import asyncio

import aiohttp

from mac.config import Quota
from mac.evidence import EvidenceLog
from mac.testing.fake_openai import FakeOpenAI

from gwkit import UNIX_BASE, chat, gateway, run, unix_session, upstream_backend, user

TEN_TOKENS = "x" * 40
PROMPT_25 = "p" * 100  # 25 input tokens at four characters a token


def refusal(status: int, body: dict, quota: str) -> dict:
    assert status == 429, body
    error = body["error"]
    assert error["type"] == "quota_exceeded" and error["quota"] == quota and quota in error["message"]
    return error


def test_requests_quota_counts_n_choices_and_refusals_are_evidence() -> None:
    async def main() -> None:
        evidence = EvidenceLog()
        async with FakeOpenAI(TEN_TOKENS) as fake, gateway(upstream_backend(fake), evidence=evidence) as gw:
            grant = gw.grant("dev", Quota(requests=5))
            sock = await gw.open_channel(grant.token, "eval-1")
            async with unix_session(sock) as s:
                assert (await chat(s, UNIX_BASE, grant.token, user("a", n=3)))[0] == 200
                error = refusal(*await chat(s, UNIX_BASE, grant.token, user("a", n=3)), "requests")
                assert error["limit"] == 5 and error["used"] == 3
                assert (await chat(s, UNIX_BASE, grant.token, user("a", n=2)))[0] == 200
                refusal(*await chat(s, UNIX_BASE, grant.token, user("a")), "requests")
            assert len(fake.received) == 2
            usage = gw.usage(grant.token)
            assert usage.requests == 5 and usage.refused == 2 and usage.output_tokens == 50
            assert usage.upstream_errors == 0  # quota refusals are not upstream failures
            (first, _) = evidence.records("quota_exceeded")
            assert first["quota"] == "requests" and first["token_id"] == grant.token_id and first["channel"] == "eval-1"

    run(main())


def test_input_token_quota_refuses_a_prompt_that_would_pass_it() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS) as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota(input_tokens=30))
            async with aiohttp.ClientSession() as s:
                assert (await chat(s, gw.tcp_url, grant.token, user(PROMPT_25)))[0] == 200
                refusal(*await chat(s, gw.tcp_url, grant.token, user(PROMPT_25)), "input_tokens")
            assert gw.usage(grant.token).input_tokens == 25 and len(fake.received) == 1

    run(main())


def test_output_quota_clamps_max_tokens_then_refuses() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS) as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota(output_tokens=25))
            async with aiohttp.ClientSession() as s:
                await chat(s, gw.tcp_url, grant.token, user("a"))
                assert fake.received[-1].body["max_tokens"] == 25  # the client set none: the gateway adds its cap
                await chat(s, gw.tcp_url, grant.token, user("a", n=2, max_completion_tokens=100))
                sent = fake.received[-1].body
                assert sent["max_completion_tokens"] == 8 and "max_tokens" not in sent  # ceil(15 left / 2 choices)
                # This fake ignores max tokens (as a careless upstream might): usage is what it reports.
                error = refusal(*await chat(s, gw.tcp_url, grant.token, user("a", max_tokens=5)), "output_tokens")
                assert error["used"] == 30 and error["limit"] == 25
            assert gw.usage(grant.token).output_tokens == 30

    run(main())


def test_small_max_tokens_is_left_alone_under_a_large_budget() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS) as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota(output_tokens=10_000))
            async with aiohttp.ClientSession() as s:
                await chat(s, gw.tcp_url, grant.token, user("a", max_tokens=7))
            assert fake.received[-1].body["max_tokens"] == 7

    run(main())


def test_concurrency_quota_refuses_the_request_over_the_limit() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS, delay_sec=0.3) as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota(concurrent=2))
            async with aiohttp.ClientSession() as s:
                results = await asyncio.gather(*(chat(s, gw.tcp_url, grant.token, user(f"q{i}")) for i in range(3)))
                assert sorted(status for status, _ in results) == [200, 200, 429]
                refusal(*next(r for r in results if r[0] == 429), "concurrent")
                assert fake.max_in_flight == 2
                assert (await chat(s, gw.tcp_url, grant.token, user("later")))[0] == 200

    run(main())


def test_rpm_counts_choices_in_a_rolling_minute() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS) as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota(rpm=3))
            async with aiohttp.ClientSession() as s:
                assert (await chat(s, gw.tcp_url, grant.token, user("a", n=2)))[0] == 200
                refusal(*await chat(s, gw.tcp_url, grant.token, user("a", n=2)), "rpm")
                assert (await chat(s, gw.tcp_url, grant.token, user("a")))[0] == 200
                error = refusal(*await chat(s, gw.tcp_url, grant.token, user("a")), "rpm")
                assert error["used"] == 3 and "wait and retry" in error["message"]

    run(main())


def test_tpm_counts_input_and_output_tokens() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS) as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota(tpm=40))
            async with aiohttp.ClientSession() as s:
                assert (await chat(s, gw.tcp_url, grant.token, user(PROMPT_25)))[0] == 200  # 25 + 10
                refusal(*await chat(s, gw.tcp_url, grant.token, user(PROMPT_25)), "tpm")
                assert (await chat(s, gw.tcp_url, grant.token, user("tiny")))[0] == 200  # 35 + 1 <= 40

    run(main())


def test_cost_quota_uses_the_backend_prices() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS) as fake, gateway(upstream_backend(fake, prices=(0.0, 100_000.0))) as gw:
            grant = gw.grant("dev", Quota(cost_usd=1.5))  # $0.10 per output token: $1 per call
            async with aiohttp.ClientSession() as s:
                assert (await chat(s, gw.tcp_url, grant.token, user("a")))[0] == 200
                assert (await chat(s, gw.tcp_url, grant.token, user("a")))[0] == 200
                refusal(*await chat(s, gw.tcp_url, grant.token, user("a")), "cost_usd")
            assert abs(gw.usage(grant.token).cost_usd - 2.0) < 1e-9

    run(main())


def test_streams_are_metered_with_upstream_usage_hidden_unless_asked() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS) as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota())
            async with aiohttp.ClientSession() as s:
                status, events = await chat(s, gw.tcp_url, grant.token, user(PROMPT_25, stream=True, n=2))
                assert status == 200 and events[-1] == "[DONE]"
                assert fake.received[-1].body["stream_options"] == {"include_usage": True}
                assert all('"usage"' not in e for e in events)  # the client did not ask for the usage chunk
                _, asked = await chat(s, gw.tcp_url, grant.token,
                                      user(PROMPT_25, stream=True, stream_options={"include_usage": True}))
                assert '"completion_tokens":10' in asked[-2]
            usage = gw.usage(grant.token)
            assert usage.output_tokens == 30 and usage.input_tokens == 50 and usage.requests == 3

    run(main())


def test_streams_without_upstream_usage_are_estimated_and_hit_the_output_quota() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS, report_usage=False) as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota(output_tokens=15))
            async with aiohttp.ClientSession() as s:
                for _ in range(2):
                    status, events = await chat(s, gw.tcp_url, grant.token, user("a", stream=True))
                    assert status == 200 and events[-1] == "[DONE]"
                refusal(*await chat(s, gw.tcp_url, grant.token, user("a", stream=True)), "output_tokens")
            assert gw.usage(grant.token).output_tokens == 20  # 40 streamed characters each

    run(main())


def test_tokens_are_metered_separately() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS) as fake, gateway(upstream_backend(fake)) as gw:
            dev, verify = gw.grant("dev", Quota(requests=1)), gw.grant("verify", Quota(requests=1))
            async with aiohttp.ClientSession() as s:
                assert (await chat(s, gw.tcp_url, dev.token, user("a")))[0] == 200
                assert (await chat(s, gw.tcp_url, dev.token, user("a")))[0] == 429
                assert (await chat(s, gw.tcp_url, verify.token, user("a")))[0] == 200

    run(main())
