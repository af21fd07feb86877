"""The `sim` task model behind the real gateway: recognition, determinism, voting, formats, faults."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter

import aiohttp

from mac.config import Quota, TaskModelSpec
from mac.gateway import OpenAIBackend, SimBackend, SimConfig, make_backend, make_phase_backends
from mac.records import SimItem

from gwkit import chat, gateway, run, sim_gateway, synthetic_items, user

BOXED = re.compile(r"\\boxed\{([^}]*)\}\.?\s*$")
ANSWER_LINE = re.compile(r"Answer: ([A-J])\s*$")


def boxed(text: str) -> str | None:
    match = BOXED.search(text)
    return match.group(1) if match else None


def texts(body: dict) -> list[str]:
    return [c["message"]["content"] for c in body["choices"]]


async def ask(gw, token: str, prompt: str, **extra) -> list[str]:
    async with aiohttp.ClientSession() as s:
        status, body = await chat(s, gw.tcp_url, token, user(prompt, **extra))
    assert status == 200, body
    return texts(body)


def test_recognises_a_known_question_inside_a_prompt_and_the_last_one_wins() -> None:
    items = [SimItem(question="What is the  sum of the first ten positive integers?", answer="55", difficulty=0.0),
             SimItem(question="How many primes are below 20?", answer="8", difficulty=0.0)]

    async def main() -> None:
        async with sim_gateway(items, SimConfig(format_error_rate=0.0)) as gw:
            token = gw.grant("dev", Quota()).token
            prompt = ("Example: how many primes are below 20? Answer 8.\n\nNow solve:\nWHAT IS THE SUM OF THE FIRST\nten "
                      "positive integers? Put your answer in \\boxed{}.")
            assert [boxed(t) for t in await ask(gw, token, prompt, temperature=0)] == ["55"]
            unknown = await ask(gw, token, "Tell me a joke.")
            assert "do not recognise" in unknown[0] and boxed(unknown[0]) is None

    run(main())


def test_add_items_teaches_new_problems_and_make_backend_picks_the_backend() -> None:
    backend = make_backend(TaskModelSpec(seed=3))
    assert isinstance(backend, SimBackend) and backend.config.seed == 3 and backend.simulated
    item = SimItem(question="Compute the number of edges of a cube.", answer="12", difficulty=0.0)

    async def main() -> None:
        async with sim_gateway() as gw:
            token = gw.grant("dev", Quota()).token
            assert "do not recognise" in (await ask(gw, token, item.question))[0]
            gw.backend.add_items([item])
            assert "do not recognise" not in (await ask(gw, token, item.question))[0]

    run(main())
    openai_backend = make_backend(TaskModelSpec.parse("openai:m", base_url="http://127.0.0.1:9/v1"))
    assert isinstance(openai_backend, OpenAIBackend) and not openai_backend.simulated
    openai_backend.add_items([item])  # a no-op


def test_same_seed_and_requests_give_the_same_multiset_under_concurrency() -> None:
    items = synthetic_items(3, seed=1)
    prompts = [items[i % 3].question for i in range(30)]

    async def replies(sequential: bool, seed: int) -> Counter:
        config = SimConfig(seed=seed, latency_jitter_sec=0.0 if sequential else 0.02)  # jitter reorders completions
        async with sim_gateway(items, config) as gw:
            token = gw.grant("dev", Quota()).token
            async with aiohttp.ClientSession() as s:
                if sequential:
                    results = [await chat(s, gw.tcp_url, token, user(p, temperature=0.8)) for p in prompts]
                else:
                    results = await asyncio.gather(*(chat(s, gw.tcp_url, token, user(p, temperature=0.8)) for p in reversed(prompts)))
        return Counter(t for _, body in results for t in texts(body))

    async def main() -> None:
        first, second, other_seed = await replies(True, 5), await replies(False, 5), await replies(True, 6)
        assert first == second
        assert first != other_seed
        assert len(first) > 3  # identical requests gave different samples

    run(main())


def test_temperature_zero_repeats_itself_and_n_choices_draw_like_n_calls() -> None:
    item = synthetic_items(1, seed=2)[0]

    async def main() -> None:
        async with sim_gateway([item]) as gw:
            one, other = gw.grant("dev", Quota()).token, gw.grant("dev", Quota()).token
            greedy = [t for _ in range(4) for t in await ask(gw, one, item.question, temperature=0)]
            greedy += await ask(gw, one, item.question, temperature=0, n=3)
            assert len(set(greedy)) == 1
            batched = await ask(gw, one, item.question, temperature=1.0, n=6)
            singles = [t for _ in range(6) for t in await ask(gw, other, item.question, temperature=1.0)]
            assert Counter(batched) == Counter(singles) and len(set(batched)) > 1

    run(main())


def test_voting_over_seven_samples_beats_one_greedy_call() -> None:
    items = synthetic_items(300, seed=0)
    instruction = " Put the final answer in \\boxed{}."

    async def main() -> tuple[int, int]:
        async with sim_gateway(items, SimConfig(seed=0)) as gw:
            token = gw.grant("dev", Quota()).token
            async with aiohttp.ClientSession() as s:
                greedy = await asyncio.gather(*(chat(s, gw.tcp_url, token, user(it.question + instruction, temperature=0))
                                                for it in items))
                sampled = await asyncio.gather(*(chat(s, gw.tcp_url, token, user(it.question + instruction, temperature=0.7))
                                                 for it in items for _ in range(7)))
        single = sum(boxed(texts(body)[0]) == it.answer for it, (_, body) in zip(items, greedy))
        voted = 0
        for i, it in enumerate(items):
            votes = Counter(boxed(texts(body)[0]) for _, body in sampled[i * 7:(i + 1) * 7])
            votes.pop(None, None)
            voted += bool(votes) and votes.most_common(1)[0][0] == it.answer
        return single, voted

    single, voted = run(main())
    assert voted >= single + 10, (single, voted)  # about +23 expected (+7.6 points)
    assert 75 <= single <= 225  # mixed difficulty: neither trivial nor hopeless


def test_format_errors_drop_when_the_prompt_names_the_format() -> None:
    integer, choice = synthetic_items(60, seed=3), synthetic_items(60, seed=4, answer_format="choice")

    async def rate(items: list[SimItem], suffix: str, pattern: re.Pattern) -> float:
        async with sim_gateway(items, SimConfig(format_error_rate=0.3, format_error_rate_when_asked=0.02)) as gw:
            token = gw.grant("dev", Quota()).token
            async with aiohttp.ClientSession() as s:
                results = await asyncio.gather(*(chat(s, gw.tcp_url, token, user(it.question + suffix, n=5)) for it in items))
        replies = [t for _, body in results for t in texts(body)]
        return sum(pattern.search(t) is None for t in replies) / len(replies)

    async def main() -> None:
        plain, asked = await rate(integer, "", BOXED), await rate(integer, " End with \\boxed{N}.", BOXED)
        assert plain > 0.2 and asked < 0.06
        plain, asked = await rate(choice, "", ANSWER_LINE), await rate(choice, " End with 'Answer: X'.", ANSWER_LINE)
        assert plain > 0.2 and asked < 0.06

    run(main())


def test_step_by_step_prompts_are_longer_and_a_little_more_accurate() -> None:
    items = synthetic_items(100, seed=5)

    async def measure(suffix: str) -> tuple[float, float]:
        async with sim_gateway(items, SimConfig(format_error_rate=0.0)) as gw:
            token = gw.grant("dev", Quota()).token
            async with aiohttp.ClientSession() as s:
                results = await asyncio.gather(*(chat(s, gw.tcp_url, token, user(it.question + suffix, n=10)) for it in items))
        correct = sum(boxed(t) == it.answer for it, (_, body) in zip(items, results) for t in texts(body))
        output = sum(body["usage"]["completion_tokens"] for _, body in results)
        return correct / 1000, output / 1000

    async def main() -> None:
        (plain_acc, plain_len), (cot_acc, cot_len) = await measure(""), await measure(" Think step by step.")
        assert cot_len > 2.5 * plain_len
        assert 0.03 < cot_acc - plain_acc < 0.15

    run(main())


def test_max_tokens_truncates_and_usage_is_about_four_characters_a_token() -> None:
    item = synthetic_items(1, seed=6)[0]

    async def main() -> None:
        async with sim_gateway([item]) as gw:
            token = gw.grant("dev", Quota()).token
            async with aiohttp.ClientSession() as s:
                _, body = await chat(s, gw.tcp_url, token, user(item.question + " step by step", max_tokens=5))
                _, full = await chat(s, gw.tcp_url, token, user(item.question))
        choice = body["choices"][0]
        assert choice["finish_reason"] == "length" and len(choice["message"]["content"]) == 20
        assert body["usage"]["completion_tokens"] == 5
        text = full["choices"][0]["message"]["content"]
        assert full["usage"]["completion_tokens"] == -(-len(text) // 4)
        assert full["usage"]["prompt_tokens"] == -(-len(item.question) // 4)

    run(main())


def test_fault_injection_latency_rate_limits_errors_and_hangs() -> None:
    item = synthetic_items(1, seed=7)[0]

    async def status_of(config: SimConfig) -> tuple[int, dict, float, dict]:
        async with sim_gateway([item], config) as gw:
            grant = gw.grant("dev", Quota())
            async with aiohttp.ClientSession() as s:
                started = time.monotonic()
                status, body = await chat(s, gw.tcp_url, grant.token, user(item.question))
                return status, body, time.monotonic() - started, gw.usage(grant.token).model_dump()

    async def main() -> None:
        status, body, elapsed, _ = await status_of(SimConfig(latency_sec=0.2))
        assert status == 200 and elapsed >= 0.2
        status, body, _, usage = await status_of(SimConfig(p_rate_limit=1.0))
        assert status == 429 and body["error"]["type"] == "rate_limit_error" and usage["requests"] == 0
        status, body, _, _ = await status_of(SimConfig(p_server_error=1.0))
        assert status == 500 and body["error"]["type"] == "server_error"
        status, body, elapsed, _ = await status_of(SimConfig(p_hang=1.0, timeout_sec=0.2))
        assert status == 504 and elapsed < 2

    run(main())


def test_faults_are_drawn_per_request_so_retries_get_through() -> None:
    item = synthetic_items(1, seed=8)[0]

    async def main() -> None:
        async with sim_gateway([item], SimConfig(p_server_error=0.5)) as gw:
            token = gw.grant("dev", Quota()).token
            async with aiohttp.ClientSession() as s:
                statuses = [(await chat(s, gw.tcp_url, token, user(item.question)))[0] for _ in range(20)]
        assert set(statuses) == {200, 500}

    run(main())


def test_item_index_handles_shared_prefixes_short_questions_and_punctuation() -> None:
    from mac.gateway.sim_text import ItemIndex

    shared = "Consider the triangle ABC with sides of length "
    long_a = SimItem(question=shared + "3, 4 and 5. What is its area?", answer="6")
    long_b = SimItem(question=shared + "5, 12 and 13. What is its area?", answer="30")
    short = SimItem(question="What is 2+2?", answer="4")
    index = ItemIndex([long_a, long_b, short])
    assert len(index) == 3
    assert index.find("Problem:" + long_b.question.upper()) is long_b
    assert index.find(f"Q: {long_a.question}\nA: 6\n\nQ: {short.question}") is short
    assert index.find(shared + "7, 24 and 25. What is its area?") is None
    assert index.find("Problem1" + short.question) is None  # glued to a preceding word: not seen (documented)


def test_answers_do_not_depend_on_how_much_output_quota_is_left() -> None:
    """The gateway clamps max_tokens to the output budget left, which shrinks call by call; a trial's answers
    must still be the same as an unmetered run's (regression: the clamp used to change the sim's draws)."""
    items = synthetic_items(30, seed=3)

    async def answers(quota: Quota) -> list[str]:
        async with sim_gateway(items) as gw:
            token = gw.grant("verify", quota).token
            return [(await ask(gw, token, item.question, temperature=0.7))[0] for item in items]

    unmetered = run(answers(Quota()))
    assert run(answers(Quota(output_tokens=10_000_000))) == unmetered


def test_every_phrasing_of_a_problem_gets_the_same_answer_at_temperature_zero() -> None:
    """Draws are keyed on the recognised problem and the modelled features, never on the raw text: nonces,
    system prompts, few-shot examples and ignored request fields buy no new sample."""
    items = synthetic_items(40, seed=12)

    async def main() -> None:
        async with sim_gateway(items) as gw:
            token = gw.grant("dev", Quota()).token
            async with aiohttp.ClientSession() as s:
                for it in items:
                    variants = [user(it.question, temperature=0),
                                user(f"Session nonce {it.difficulty:.9f}.\n{it.question}", temperature=0, seed=7),
                                user(f"Example: {items[0].question} Answer 3.\n\n{it.question}", temperature=0, top_p=0.5),
                                {"messages": [{"role": "system", "content": "You are a careful solver #42."},
                                              {"role": "user", "content": it.question.upper()}], "temperature": 0}]
                    replies = [texts((await chat(s, gw.tcp_url, token, body))[1])[0] for body in variants]
                    assert len(set(replies)) == 1, replies

    run(main())


def _vote(replies: list[str]) -> str | None:
    votes = Counter(boxed(t) for t in replies)
    votes.pop(None, None)
    return votes.most_common(1)[0][0] if votes else None


def test_a_nonce_vote_at_temperature_zero_does_not_beat_the_strong_baseline() -> None:
    """The milking attack: vary a preamble, ask 9 times at temperature 0 (or at near-zero temperatures), vote.
    It used to beat the strong baseline (8 votes at 0.7) by 10 points; now its samples are the greedy answer."""
    items = synthetic_items(150, seed=13)
    asks = " Think step by step. Put the final answer in \\boxed{}."

    async def main() -> tuple[int, int, int, int]:
        async with sim_gateway(items, SimConfig(seed=4)) as gw:
            token = gw.grant("dev", Quota()).token
            async with aiohttp.ClientSession() as s:
                async def replies(it: SimItem, bodies: list[dict]) -> list[str]:
                    results = await asyncio.gather(*(chat(s, gw.tcp_url, token, b) for b in bodies))
                    return [texts(body)[0] for _, body in results]

                greedy = nonce = tiny = strong = 0
                for it in items:
                    prompt = it.question + asks
                    one = await replies(it, [user(prompt, temperature=0)])
                    nonced = await replies(it, [user(f"Request {k} (nonce {k * 7919}).\n{prompt}", temperature=0)
                                                for k in range(9)])
                    near_zero = await replies(it, [user(prompt, temperature=0.01 * (k + 1)) for k in range(9)])
                    sampled = await replies(it, [user(prompt, temperature=0.7) for _ in range(8)])
                    assert {boxed(t) for t in nonced} == {boxed(one[0])}  # all nine are the greedy answer
                    greedy += _vote(one) == it.answer
                    nonce += _vote(nonced) == it.answer
                    tiny += _vote(near_zero) == it.answer
                    strong += _vote(sampled) == it.answer
        return greedy, nonce, tiny, strong

    greedy, nonce, tiny, strong = run(main())
    assert nonce == greedy, (greedy, nonce)
    assert tiny <= greedy + 4, (greedy, tiny)  # near-greedy samples mostly repeat the greedy answer
    assert strong >= nonce + 8 and strong > tiny, (greedy, nonce, tiny, strong)  # about +17 expected


def test_the_dev_token_is_no_oracle_for_test_questions() -> None:
    """The membership attack: ask the test questions on the dev token. Each phase's sim knows only its split, so
    a test question gets exactly the reply any unknown text gets: no answer and no sign that it is a test item."""
    dev, test = synthetic_items(20, seed=21), synthetic_items(20, seed=22)
    made_up = synthetic_items(20, seed=23)
    backends = make_phase_backends(TaskModelSpec(), {"dev": dev, "verify": test})
    assert backends["dev"] is not backends["verify"]

    async def main() -> None:
        async with gateway(backends["dev"], phase_backends=backends) as gw:
            dev_token, verify_token = gw.grant("dev", Quota()).token, gw.grant("verify", Quota()).token

            async def replies(token: str, items: list[SimItem]) -> list[str]:
                out = []
                for it in items:
                    for k in range(3):
                        for temperature in (0, 0.7):
                            prompt = f"Attempt {k}. {it.question} Put the final answer in \\boxed{{}}."
                            out += await ask(gw, token, prompt, temperature=temperature, n=2)
                return out

            on_test, on_made_up = await replies(dev_token, test), await replies(dev_token, made_up)
            assert set(on_test) == set(on_made_up) and len(set(on_test)) == 1  # one fixed reply for all unknowns
            assert not any(boxed(t) for t in on_test)
            assert all(boxed(t) for t in await replies(dev_token, dev[:3]))  # the dev sim knows its own split
            assert all(boxed(t) for t in await replies(verify_token, test[:3]))  # the verify sim knows the test split
            assert not any(boxed(t) for t in await replies(verify_token, dev[:3]))

    run(main())
