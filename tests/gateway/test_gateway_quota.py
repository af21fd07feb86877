"""Every quota of a token, against a fake OpenAI-compatible upstream behind the real gateway."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from mac.config import Quota
from mac.evidence import EvidenceLog
from mac.testing.fake_openai import FakeOpenAI, FakeReply

from gwkit import UNIX_BASE, chat, gateway, get, run, unix_session, upstream_backend, user

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


def test_input_token_quota_reserves_a_prompt_at_one_token_per_byte() -> None:
    """The worst case of a prompt is its body's size in bytes: the quota must cover that before it goes upstream
    (then only the 25 tokens the upstream counted are charged)."""
    worst = len(json.dumps(user(PROMPT_25)).encode())  # what aiohttp's json= sends

    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS) as fake, gateway(upstream_backend(fake)) as gw:
            grant = gw.grant("dev", Quota(input_tokens=worst + 10))
            async with aiohttp.ClientSession() as s:
                assert (await chat(s, gw.tcp_url, grant.token, user(PROMPT_25)))[0] == 200
                error = refusal(*await chat(s, gw.tcp_url, grant.token, user(PROMPT_25)), "input_tokens")
                assert f"may need up to {worst}" in error["message"] and error["used"] == 25
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
                assert sent["max_completion_tokens"] == 7 and "max_tokens" not in sent  # floor(15 left / 2 choices)
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


MODEL_LIMIT = 40
"""The fake model's output limit per reply (what it writes when asked for no maximum)."""
PRICES = (1.0, 10.0)
"""USD per million input / output tokens."""


def _writes_the_maximum(body: dict) -> str:
    """An upstream that always uses every output token it may (four characters a token)."""
    return "y" * 4 * (body.get("max_tokens") or body.get("max_completion_tokens") or MODEL_LIMIT)


async def _spend_until_exhausted(quota: Quota, streams: int = 32) -> tuple[dict, dict]:
    """`streams` clients stream completions (mixed n and max_tokens) until the gateway says the budget is spent;
    returns (usage, how the requests ended)."""
    async with FakeOpenAI(_writes_the_maximum, chunk_chars=40, chunk_delay_sec=0.002) as fake:
        backend = upstream_backend(fake, prices=PRICES, max_output_tokens=MODEL_LIMIT)
        async with gateway(backend) as gw:
            grant = gw.grant("dev", quota)
            ended: dict[str, int] = {}

            async def client(i: int) -> None:
                async with aiohttp.ClientSession() as s:
                    for k in range(10_000):
                        extra = {"n": 1 + (i + k) % 2}
                        if k % 3:
                            extra["max_tokens"] = 10 + (i * 7 + k * 13) % 50
                        status, body = await chat(s, gw.tcp_url, grant.token, user(f"client {i} call {k}", stream=True, **extra))
                        held = " (held)" if status != 200 and "in flight" in body["error"]["message"] else ""
                        kind = "ok" if status == 200 else body["error"]["type"] + held
                        ended[kind] = ended.get(kind, 0) + 1
                        if status == 429 and "in flight" not in body["error"]["message"]:
                            return  # spent: no more calls in this phase

            await asyncio.gather(*(client(i) for i in range(streams)))
            stats = gw.usage(grant.token).model_dump()
            assert fake.max_in_flight > 1  # the streams really ran side by side
    return stats, ended


@pytest.mark.parametrize("quota", [Quota(output_tokens=3000), Quota(cost_usd=0.05), Quota(input_tokens=4_000),
                                   Quota(output_tokens=2500, cost_usd=0.04, input_tokens=40_000)],
                         ids=["output", "cost", "input", "all"])
def test_concurrent_streams_never_spend_past_a_budget(quota: Quota) -> None:
    """32 concurrent streams against an upstream that always writes the maximum: each request's worst case is
    reserved before it goes upstream, so no budget is ever exceeded, and the last of it is still spent."""
    usage, ended = run(_spend_until_exhausted(quota))
    assert ended.get("quota_exceeded", 0) == 32 and ended["ok"] > 32, ended
    if quota.output_tokens is not None:
        assert usage["output_tokens"] <= quota.output_tokens, usage
    if quota.cost_usd is not None:
        assert usage["cost_usd"] <= quota.cost_usd + 1e-12, usage
    if quota.input_tokens is not None:
        assert usage["input_tokens"] <= quota.input_tokens, usage
    spent = [usage["output_tokens"] / quota.output_tokens if quota.output_tokens else 0,
             usage["cost_usd"] / quota.cost_usd if quota.cost_usd else 0,
             usage["input_tokens"] / quota.input_tokens if quota.input_tokens else 0]
    assert max(spent) > 0.9, (usage, ended)  # the budget is used up, not stranded in reservations


def test_a_request_waits_for_reservations_in_flight_then_is_told_to_retry() -> None:
    """Each request reserves the model's limit (60) of a 100-token budget: the second waits for the first to
    settle (10 used), then runs; the third finds the room still held when its wait ends: 429, retry later."""
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS) as fake:
            fake.push(FakeReply(TEN_TOKENS, delay_sec=0.3), FakeReply(TEN_TOKENS, delay_sec=0.95))
            backend = upstream_backend(fake, max_output_tokens=60, timeout_sec=1.0)
            async with gateway(backend) as gw:
                grant = gw.grant("dev", Quota(output_tokens=100))
                async with aiohttp.ClientSession() as s:
                    results = await asyncio.gather(*(chat(s, gw.tcp_url, grant.token, user(f"q{i}")) for i in range(3)))
                    _, stats = await get(s, f"{gw.tcp_url}/stats", grant.token)
        assert sorted(status for status, _ in results) == [200, 200, 429], results
        held = refusal(*next(r for r in results if r[0] == 429), "output_tokens")
        assert "in flight" in held["message"] and "retry" in held["message"]
        assert fake.max_in_flight == 1 and "max_tokens" not in fake.received[0].body  # 60 fit: sent as asked
        assert stats["usage"]["output_tokens"] == 20 and stats["reserved"]["output_tokens"] == 0

    run(main())


def test_a_request_waiting_for_room_is_refused_when_its_token_is_revoked() -> None:
    async def main() -> None:
        async with FakeOpenAI(TEN_TOKENS, delay_sec=1.5) as fake:
            async with gateway(upstream_backend(fake, max_output_tokens=60)) as gw:
                grant = gw.grant("dev", Quota(output_tokens=100))
                async with aiohttp.ClientSession() as s:
                    first = asyncio.ensure_future(chat(s, gw.tcp_url, grant.token, user("first")))
                    await asyncio.sleep(0.1)
                    waiting = asyncio.ensure_future(chat(s, gw.tcp_url, grant.token, user("second")))
                    await asyncio.sleep(0.1)
                    gw.revoke(grant.token)  # the phase ends: the waiting request must not go upstream later
                    status, body = await asyncio.wait_for(waiting, 1.0)
                    assert status == 401 and "revoked" in body["error"]["message"]
                    assert not first.done()  # refused at once, not after the first freed its room
                    assert (await first)[0] == 200  # in flight before the revocation: it completes
                assert len(fake.received) == 1
                assert gw.usage(grant.token).requests == 1 and gw.usage(grant.token).output_tokens == 10

    run(main())
