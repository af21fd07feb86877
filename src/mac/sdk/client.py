"""ModelClient: a thin OpenAI-compatible client for the task-model gateway."""

from __future__ import annotations

import os
from typing import Any

from mac.sdk.timing import remaining


class ModelClient:
    """Chat with the task model through the gateway.

    Configured from `TASK_MODEL_API_BASE`, `TASK_MODEL_API_KEY` and `TASK_MODEL_NAME` unless given.
    `openai` is imported on first use so that importing the SDK stays cheap.
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_base: str | None = None,
        model: str | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
    ):
        self.api_key = api_key or os.environ.get("TASK_MODEL_API_KEY", "none")
        self.api_base = api_base or os.environ.get("TASK_MODEL_API_BASE", "")
        self.model = model or os.environ.get("TASK_MODEL_NAME", "task-model")
        self.timeout = timeout
        self.max_retries = max_retries
        self._client: Any = None

    @property
    def openai(self) -> Any:
        """The underlying `openai.OpenAI` client."""
        if self._client is None:
            from openai import OpenAI

            self._client = OpenAI(
                api_key=self.api_key, base_url=self.api_base or None, timeout=self.timeout, max_retries=self.max_retries
            )
        return self._client

    def complete(self, messages: list[dict[str, Any]], *, temperature: float = 0.7, max_tokens: int | None = None,
                 n: int = 1, model: str | None = None, **kwargs: Any) -> list[str]:
        """All `n` choices' texts. The request times out no later than the run's deadline."""
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        asked = kwargs.pop("timeout", None)  # MAC artifacts pass their own per-request timeout
        own = float(asked) if isinstance(asked, (int, float)) and asked > 0 else self.timeout
        timeout = min(own, max(1.0, remaining()))
        response = self.openai.chat.completions.create(
            model=model or self.model, messages=messages, temperature=temperature, n=n, timeout=timeout, **kwargs
        )
        return [(choice.message.content or "") for choice in response.choices]

    def chat(self, messages: list[dict[str, Any]], *, temperature: float = 0.7, max_tokens: int | None = None,
             model: str | None = None, **kwargs: Any) -> str:
        """The first choice's text."""
        return self.complete(messages, temperature=temperature, max_tokens=max_tokens, model=model, **kwargs)[0]
