"""Run an honest fake server (FakeOpenAI, FakeProviders) on its own event loop in a background thread, so that a
test can point a `mac` subprocess at it:

    with in_thread(FakeOpenAI(models=["m"])) as fake:
        subprocess.run(["mac", "eval", ..., "--base-url", fake.url])
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any, TypeVar
from collections.abc import Iterator

Fake = TypeVar("Fake", bound=Any)


@contextlib.contextmanager
def in_thread(fake: Fake, *, start_timeout: float = 10.0) -> Iterator[Fake]:
    """Start `fake` (anything with async `start()` and `close()`) in a thread for the block; closed after it."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(fake.start())
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not ready.wait(start_timeout) or failure:
        if failure:
            thread.join(start_timeout)
            loop.close()
        raise RuntimeError(f"the fake server did not start: {failure[0] if failure else 'timeout'}")
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(start_timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(start_timeout)
        loop.close()
