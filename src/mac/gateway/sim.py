"""The `sim` task model: a noisy oracle on the trusted side, so offline runs and tests exercise agent design.

What it models
- It knows the problems it was given (`SimItem`: question, answer, difficulty, distractors, answer format) and
  recognises one when its question text appears in the prompt (case and whitespace ignored; the match that
  appears last wins, so few-shot examples placed before the real question do not confuse it). A trial gives
  each phase its own sim (mac.gateway.backend.make_phase_backends): the development one knows only the dev
  problems, the verification one only the test problems.
- A sample is correct with probability sigmoid(skill - slope * difficulty + bonus - penalty * temperature), where
  the bonus applies when the prompt asks for step-by-step reasoning (which also makes replies longer, so it
  costs output tokens). Wrong samples cluster on the item's distractors (geometric weights in their order),
  with a small share of stray answers; so for items that are not too hard the correct answer is the plurality
  and self-consistency voting beats one call.
- Low temperatures give little diversity: below `spread_temperature` a sample repeats the greedy (temperature 0)
  answer with probability 1 - temperature / spread_temperature, as a real model's near-greedy samples mostly do.
  Voting pays at sampling temperatures, not near 0.
- Replies carry filler reasoning and end with the answer in the item's format (mac.gateway.sim_formats:
  `\\boxed{N}`, `Answer: X`, a fenced program). A small share states it so that a strict parser misses it;
  the share drops when the prompt spells the format out, so prompting for the format or repairing it is worth
  something.
- Draws are keyed on what the sim models, never on the raw text: the recognised problem, step-by-step or not,
  whether the format was asked for, the temperature, and the sample index (at temperature > 0: how many samples
  of that problem with those features this token drew before). So at temperature 0 every phrasing of a problem
  gets the same reply (a nonce in a preamble buys no new sample), identical requests at temperature > 0 give
  independent samples, and the multiset of replies does not depend on scheduling. A request with n choices draws
  like n single requests.
- `max_tokens` truncates replies (finish_reason "length"); usage is about four characters a token.
- Optional latency and faults (429, 500, hang) through SimConfig, to test clients and the gateway's timeouts.
- A prompt with no known problem gets one fixed generic reply, whatever it says: a problem of another split is
  unknown to this phase's sim, and its reply is the same as for any other unknown text (no membership signal).

What it cannot prove: anything about real models. Accuracy differences between agents measured with it show
that the harness rewards the designs it models (sampling, voting, step-by-step prompts, format care), not that
those designs help a real model by the same amount. It does not read the reasoning it is given, so critique,
verification, tool use or retrieval cannot help it, and it cannot see a question glued to a preceding word.
Every result made with it is labelled simulated.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from collections.abc import AsyncGenerator, Iterable

from pydantic import BaseModel, ConfigDict

from mac.gateway.backend import Backend
from mac.gateway.sim_text import (ItemIndex, asks_for_format, asks_step_by_step, final_line, made_up_distractors,
                                 normalise, reasoning, stray_answer)
from mac.gateway.wire import UpstreamError, estimate_tokens, prompt_text
from mac.records import SimItem

_UNKNOWN_REPLY = ("I am a simulated task model and I do not recognise a problem in this prompt, "
                  "so I cannot give a meaningful answer.")


class SimConfig(BaseModel):
    """Knobs of the simulated task model. The defaults give ~92% on easy items and ~8% on the hardest."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 0
    skill: float = 2.5
    """Logit of a correct sample at difficulty 0 and temperature 0."""
    difficulty_slope: float = 5.0
    step_by_step_bonus: float = 0.4
    temperature_penalty: float = 0.3
    """Logit lost per unit of temperature."""
    spread_temperature: float = 0.5
    """At and above this temperature samples are independent; below it a sample repeats the greedy answer with
    probability 1 - temperature / spread_temperature."""
    stray_rate: float = 0.15
    """Share of wrong samples that are not one of the distractors."""
    format_error_rate: float = 0.12
    format_error_rate_when_asked: float = 0.02
    verbosity: float = 1.0
    """Scales the length of the reasoning (and so output tokens)."""
    latency_sec: float = 0.0
    latency_jitter_sec: float = 0.0
    """Extra uniform random latency in [0, jitter]."""
    p_rate_limit: float = 0.0
    """Probability of an upstream 429."""
    p_server_error: float = 0.0
    """Probability of an upstream 500."""
    p_hang: float = 0.0
    """Probability that the request hangs for `hang_sec` (the gateway's timeout should end it)."""
    hang_sec: float = 3600.0
    timeout_sec: float = 600.0
    """How long the gateway waits for this backend."""


def _draw_seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def _key(item: SimItem, step_by_step: bool, temperature: float) -> str:
    return f"{normalise(item.question)}|{step_by_step}|{temperature:.4f}"


@dataclass(frozen=True)
class Ask:
    """What the sim reads from a request: the problem it recognised and the prompting features it models."""

    item: SimItem | None
    step_by_step: bool
    format_asked: bool
    temperature: float

    @property
    def draw_key(self) -> str:
        """What a sample depends on besides its index: never the raw text (every unknown prompt shares one key)."""
        return "unknown" if self.item is None else _key(self.item, self.step_by_step, self.temperature)


class SimBackend(Backend):
    """The simulated task model (see the module docstring)."""

    simulated = True
    max_output_tokens = 4096
    """No reply is longer (replies are cut there, finish_reason "length")."""

    def __init__(self, items: Iterable[SimItem] = (), config: SimConfig | None = None, *, model: str = "sim",
                 prices: tuple[float, float] = (0.0, 0.0)):
        self.config = config or SimConfig()
        self.upstream_model = model
        self.timeout_sec = self.config.timeout_sec
        self.price_input_per_mtok, self.price_output_per_mtok = prices
        self.index = ItemIndex(items)
        self._seen: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._distractors: dict[int, list[str]] = {}
        self._serial = itertools.count(1)

    def add_items(self, items: Iterable[SimItem]) -> None:
        self.index.add(items)

    def read(self, body: dict[str, Any]) -> tuple[Ask, str]:
        """(what the sim reads from `body`, the prompt text)."""
        prompt = prompt_text(body.get("messages") or [])
        item = self.index.find(prompt)
        raw = body.get("temperature")
        temperature = min(2.0, max(0.0, float(raw if isinstance(raw, (int, float)) else 1.0)))
        asked = item is not None and asks_for_format(prompt, item.answer_format)
        return Ask(item, asks_step_by_step(prompt), asked, round(temperature, 4)), prompt

    # ---- the Backend contract ----------------------------------------------------------------------------------

    async def complete(self, body: dict[str, Any], caller: str) -> dict[str, Any]:
        ask, prompt = self.read(body)
        n = int(body.get("n") or 1)
        first = self._seen[(caller, ask.draw_key)]
        self._seen[(caller, ask.draw_key)] = first + n  # claimed before any await: concurrency cannot reorder draws
        await self._latency_and_faults(ask.draw_key, first)
        asked = [v for v in (body.get("max_completion_tokens"), body.get("max_tokens")) if v]
        return self.reply(ask, prompt, first, n, min(asked + [self.max_output_tokens]))

    async def stream(self, body: dict[str, Any], caller: str) -> AsyncGenerator[dict[str, Any], None]:
        result = await self.complete(body, caller)
        base = {"id": result["id"], "object": "chat.completion.chunk", "created": result["created"], "model": result["model"]}
        for choice in result["choices"]:
            i, text = choice["index"], choice["message"]["content"]
            yield {**base, "choices": [{"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
            for start in range(0, len(text), 64):
                yield {**base, "choices": [{"index": i, "delta": {"content": text[start:start + 64]}, "finish_reason": None}]}
            yield {**base, "choices": [{"index": i, "delta": {}, "finish_reason": choice["finish_reason"]}]}
        if (body.get("stream_options") or {}).get("include_usage"):
            yield {**base, "choices": [], "usage": result["usage"]}

    # ---- sampling ------------------------------------------------------------------------------------------------

    async def _latency_and_faults(self, key: str, first: int) -> None:
        c = self.config
        rng = random.Random(_draw_seed(c.seed, key, first, "faults"))
        delay = c.latency_sec + (rng.uniform(0, c.latency_jitter_sec) if c.latency_jitter_sec else 0.0)
        roll = rng.random()
        if roll < c.p_hang:
            delay += c.hang_sec
        if delay:
            await asyncio.sleep(delay)
        if c.p_hang <= roll < c.p_hang + c.p_rate_limit:
            raise UpstreamError(429, "simulated upstream rate limit; retry later", "rate_limit_error")
        if c.p_hang + c.p_rate_limit <= roll < c.p_hang + c.p_rate_limit + c.p_server_error:
            raise UpstreamError(500, "simulated upstream server error", "server_error")

    def reply(self, ask: Ask, prompt: str, first: int, n: int, cap: int | None = None) -> dict[str, Any]:
        """The completion for samples first..first+n-1 of `ask` (all sample 0 at temperature 0)."""
        choices: list[dict[str, Any]] = []
        for i in range(n):
            sample = 0 if ask.temperature == 0 else first + i
            text = _UNKNOWN_REPLY if ask.item is None else self._text(ask.item, ask, sample)
            finish = "stop"
            if cap is not None and estimate_tokens(len(text)) > cap:
                text, finish = text[: cap * 4], "length"
            choices.append({"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish,
                            "logprobs": None})
        prompt_tokens = estimate_tokens(len(prompt))
        completion_tokens = sum(estimate_tokens(len(c["message"]["content"])) for c in choices)
        return {"id": f"chatcmpl-sim-{next(self._serial)}", "object": "chat.completion", "created": int(time.time()),
                "model": self.upstream_model, "choices": choices, "system_fingerprint": "mac-sim",
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                          "total_tokens": prompt_tokens + completion_tokens}}

    def p_correct(self, item: SimItem, temperature: float, step_by_step: bool) -> float:
        c = self.config
        logit = c.skill - c.difficulty_slope * item.difficulty - c.temperature_penalty * temperature
        return 1.0 / (1.0 + math.exp(-(logit + (c.step_by_step_bonus if step_by_step else 0.0))))

    def answer(self, item: SimItem, step_by_step: bool, temperature: float, sample: int) -> str:
        """The answer of one sample: a fresh draw, or (more often the lower the temperature) the greedy one."""
        c = self.config
        rng = random.Random(_draw_seed(c.seed, _key(item, step_by_step, temperature), sample, "answer"))
        if temperature > 0 and rng.random() >= min(1.0, temperature / c.spread_temperature):
            return self.answer(item, step_by_step, 0.0, 0)
        return item.answer if rng.random() < self.p_correct(item, temperature, step_by_step) else self._wrong(item, rng)

    def _text(self, item: SimItem, ask: Ask, sample: int) -> str:
        c = self.config
        rng = random.Random(_draw_seed(c.seed, ask.draw_key, ask.format_asked, sample, "text"))
        well_formed = rng.random() >= (c.format_error_rate_when_asked if ask.format_asked else c.format_error_rate)
        answer = self.answer(item, ask.step_by_step, ask.temperature, sample)
        return reasoning(rng, ask.step_by_step, c.verbosity) + "\n" + final_line(answer, item.answer_format, well_formed, rng)

    def _wrong(self, item: SimItem, rng: random.Random) -> str:
        pool = self._distractor_pool(item)
        if pool and rng.random() >= self.config.stray_rate:
            weights = [0.5 ** k for k in range(len(pool))]
            return rng.choices(pool, weights)[0]
        return self._stray(item, rng)

    def _distractor_pool(self, item: SimItem) -> list[str]:
        """The item's distractors, or plausible ones made up deterministically when it lists none."""
        cached = self._distractors.get(id(item))
        if cached is not None:
            return cached
        pool = [d for d in item.distractors if d != item.answer]
        if not pool:
            pool = made_up_distractors(item, random.Random(_draw_seed(self.config.seed, item.question, "distractors")))
        self._distractors[id(item)] = pool
        return pool

    def _stray(self, item: SimItem, rng: random.Random) -> str:
        return stray_answer(item, rng)
