"""Helpers of the real meta-agent tests: a fake provider served from its own thread (the tools under test are
subprocesses), and the small artifact the scripted sessions write."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from pathlib import Path
from collections.abc import Iterator

from mac.testing.fake_providers import FakeProviders, session_commands

MAC = [sys.executable, "-c", "from mac.cli import app; app()"]
FAKE_KEY = "sk-fake-meta-0123456789"

AGENT = '''
import re
from mac.sdk import BaseAgent, ModelClient, Prediction

class ScriptedAgent(BaseAgent):
    def solve(self, problems, timeout_sec):
        client = ModelClient()
        out = []
        for p in problems:
            reply = client.chat([{"role": "user", "content": p.question}], temperature=0.0)
            numbers = re.findall(r"\\d+", reply.replace(",", ""))
            out.append(Prediction(p.idx, numbers[-1] if numbers else ""))
        return out
'''
DENIED_PROBE = "curl -sS -m 10 https://huggingface.co/datasets || echo egress-denied"


@contextlib.contextmanager
def serving(commands: list[str]) -> Iterator[FakeProviders]:
    """A FakeProviders on 127.0.0.1 in a background thread, for the duration of the block."""
    fake = FakeProviders(commands, models=("fake-model", "fake-meta"))  # the model the tests ask for is listed
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(fake.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def scripted_session(*, submit: str | None = None) -> list[str]:
    commands = session_commands(AGENT, submit=submit)
    return commands[:1] + [DENIED_PROBE] + commands[1:]


def files_text(folder: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())
