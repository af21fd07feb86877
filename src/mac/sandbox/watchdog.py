"""A deadline that holds when the event loop does not: a thread that fires at a monotonic time unless stopped.

The controller's event loop serves every trial; if anything ever blocks it, timers scheduled on it run late.
A sandbox's wall clock is therefore also enforced by one of these, which kills the sandbox's process tree
(through a pidfd, so it can never hit a recycled pid) whether or not the loop is free.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Watchdog:
    """Calls `fire()` once, from its own daemon thread, at `at` (time.monotonic) unless `stop()` came first."""

    def __init__(self, at: float, fire: Callable[[], None], name: str = "mac-watchdog"):
        self.at, self._fire = at, fire
        self.fired = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if self._stopped.wait(max(0.0, self.at - time.monotonic())):
            return
        self.fired = True
        self._fire()

    def stop(self) -> None:
        self._stopped.set()
