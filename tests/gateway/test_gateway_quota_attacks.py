"""Red-team attacks on the hard token quotas: requests shaped so that the upstream spends more than the gateway
reserved. Each runs against the real gateway in front of an honest fake upstream that spends the way real
upstreams do (vLLM and SGLang read `max_completion_tokens` before `max_tokens`; OpenAI charges a fixed number of
prompt tokens per image, however short its URL)."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from mac.config import Quota
from mac.testing.fake_openai import FakeOpenAI

from gwkit import chat, gateway, run, upstream_backend, user

MODEL_LIMIT = 400
"""The fake model's own output limit per reply."""
IMAGE_TOKENS = 765
"""What OpenAI charges for one 1024x1024 image at high detail (85 + 4 tiles x 170), whatever its URL's size."""


def _vllm_budget(body: dict) -> int:
    """How vLLM and SGLang read a request's output cap: `max_completion_tokens or max_tokens`, else the model's."""
    return body.get("max_completion_tokens") or body.get("max_tokens") or MODEL_LIMIT


def _writes_its_whole_budget(body: dict) -> str:
    return "y" * 4 * _vllm_budget(body)


async def _concurrently(gw, token: str, bodies: list[dict]) -> list[int]:
    async with aiohttp.ClientSession() as s:
        results = await asyncio.gather(*(chat(s, gw.tcp_url, token, b) for b in bodies))
    return [status for status, _ in results]


def test_a_small_max_tokens_beside_a_large_max_completion_tokens_cannot_overspend() -> None:
    """Attack: reserve by the smaller of the two output caps while the upstream honours the larger one. 16 such
    requests at once against a 2,000-token budget would write 6,400 tokens."""
    quota = Quota(output_tokens=2000)

    async def main() -> tuple[dict, list[int], list[dict]]:
        async with FakeOpenAI(_writes_its_whole_budget) as fake:
            async with gateway(upstream_backend(fake, max_output_tokens=MODEL_LIMIT)) as gw:
                grant = gw.grant("dev", quota)
                bodies = [user(f"q{i}", max_tokens=1, max_completion_tokens=MODEL_LIMIT) for i in range(16)]
                statuses = await _concurrently(gw, grant.token, bodies)
                return gw.usage(grant.token).model_dump(), statuses, [r.body for r in fake.received]

    usage, statuses, sent = run(main())
    assert usage["output_tokens"] <= quota.output_tokens, (usage, statuses)
    # what went upstream carries one cap, the one that was reserved (at most what the client asked for)
    assert all(_vllm_budget(b) == 1 for b in sent), sent


def test_non_text_content_that_the_upstream_charges_per_item_is_refused() -> None:
    """Attack: an image part costs a fixed number of prompt tokens (765 for a 1024x1024 image at OpenAI's high
    detail), however few bytes its URL takes, so a reservation of one token per byte does not cover it."""
    parts = [{"type": "image_url", "image_url": {"url": f"http://i.co/{i}", "detail": "high"}} for i in range(10)]
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "describe"}, *parts]}]}

    async def main() -> tuple[list[int], dict, list[int], int]:
        async with FakeOpenAI("ok", image_tokens=IMAGE_TOKENS) as fake:
            async with gateway(upstream_backend(fake)) as gw:
                grant = gw.grant("dev", Quota(input_tokens=3000))
                statuses = await _concurrently(gw, grant.token, [body] * 4)
                text_only = await _concurrently(gw, grant.token, [user("describe", n=1)])
                return statuses, gw.usage(grant.token).model_dump(), text_only, len(fake.received)

    statuses, usage, text_only, upstream_calls = run(main())
    # the 3 requests that fit the reservations (about 800 bytes each) would be charged 7,650 prompt tokens each
    assert statuses == [400] * 4 and usage["input_tokens"] <= 3000, (statuses, usage)
    assert text_only == [200] and upstream_calls == 1  # plain text still goes through
    assert len(json.dumps(parts[0])) < IMAGE_TOKENS  # the premise: an image part takes fewer bytes than it costs
