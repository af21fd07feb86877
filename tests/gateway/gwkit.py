"""Helpers for the gateway tests: start a real gateway, talk to it over TCP or a unix socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any
from collections.abc import AsyncIterator, Iterable

import aiohttp

from mac.config import TaskModelSpec
from mac.evidence import EvidenceLog
from mac.gateway import Backend, Gateway, OpenAIBackend, SimConfig, make_backend
from mac.records import SimItem
from mac.testing.fake_openai import FakeOpenAI

UPSTREAM_KEY = "sk-upstream-secret-0123456789"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@contextlib.contextmanager
def short_dir() -> Any:
    """A short temporary folder: unix socket paths must stay under 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="gw-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.asynccontextmanager
async def gateway(backend: Backend, *, model_name: str = "task-model", evidence: EvidenceLog | None = None,
                  tcp: bool = True, **options: Any) -> AsyncIterator[Gateway]:
    """A started gateway with a call log and sockets in a fresh short folder (`options`: more Gateway options)."""
    with short_dir() as folder:
        gw = Gateway(backend, model_name, folder / "gateway.jsonl", folder / "s", evidence, tcp_port=0 if tcp else None,
                     **options)
        async with gw:
            yield gw


def sim_gateway(items: Iterable[SimItem] = (), config: SimConfig | None = None, **kwargs: Any) -> Any:
    return gateway(make_backend(TaskModelSpec(), items, config), **kwargs)


def upstream_backend(fake: FakeOpenAI, **kwargs: Any) -> OpenAIBackend:
    return OpenAIBackend(fake.url, "upstream-model", fake.api_key, **kwargs)


def unix_session(sock: Path) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(sock)))


UNIX_BASE = "http://gateway/v1"


async def chat(session: aiohttp.ClientSession, base: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST a chat completion; returns (status, parsed JSON or, for streams, the list of SSE data payloads)."""
    async with session.post(f"{base}/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}) as r:
        text = await r.text()
        if body.get("stream") and r.status == 200:
            return r.status, [line[6:] for line in text.splitlines() if line.startswith("data: ")]
        return r.status, json.loads(text)


async def get(session: aiohttp.ClientSession, url: str, token: str) -> tuple[int, Any]:
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json()


def user(text: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}], **extra}


def synthetic_items(count: int, seed: int = 0, answer_format: str = "integer") -> list[SimItem]:
    """`count` problems of mixed difficulty (uniform 0..1) with three distractors each."""
    rng = random.Random(seed)
    items = []
    for i in range(count):
        if answer_format == "integer":
            answer = rng.randint(0, 999)
            items.append(SimItem(question=f"Problem {i}: find the value of the sequence term with index {rng.randint(10, 10**6)}.",
                                 answer=str(answer), difficulty=rng.random(),
                                 distractors=[str((answer + d) % 1000) for d in (1, 7, 13)]))
        else:
            letters = list("ABCD")
            rng.shuffle(letters)
            items.append(SimItem(question=f"Question {i}: which option describes sample {rng.randint(10, 10**6)} best?",
                                 answer=letters[0], difficulty=rng.random(), distractors=letters[1:],
                                 answer_format="choice"))
    return items
