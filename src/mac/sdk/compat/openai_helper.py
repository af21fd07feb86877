"""MAC compatibility: `from openai_helper import OpenAIHelper` as in the published benchmark.

Same constructor (`api_key`, `base_url`, `model`, all defaulting to the TASK_MODEL_* environment) and the same
attributes (`client` is an `openai.OpenAI`, `model`, `base_url`, `call_count`, `total_latency`). Unlike the
published helper it keeps the HTTP client's default socket options (TCP_NODELAY) and writes no log file.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from mac.sdk.client import ModelClient


class OpenAIHelper:
    """`OpenAIHelper().chat(messages, model=None, temperature=0.7, max_tokens=None, **kw) -> str`."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, model: str | None = None,
                 api_base: str | None = None):
        self._model_client = ModelClient(api_key=api_key, api_base=base_url or api_base, model=model)
        self.api_key = self._model_client.api_key
        self.base_url = self._model_client.api_base
        self.model = self._model_client.model
        self.call_count = 0
        self.total_latency = 0.0
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        return self._model_client.openai

    def chat(self, messages: list[dict], model: str | None = None, temperature: float = 0.7,
             max_tokens: int | None = None, **kwargs: Any) -> str:
        started = time.monotonic()
        try:
            return self._model_client.chat(messages, model=model, temperature=temperature, max_tokens=max_tokens,
                                           **kwargs)
        finally:
            with self._lock:
                self.call_count += 1
                self.total_latency += time.monotonic() - started
