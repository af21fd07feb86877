"""MAC compatibility: `from openai_helper import OpenAIHelper` as in the published benchmark."""

from __future__ import annotations

from typing import Any

from mac.sdk.client import ModelClient


class OpenAIHelper:
    """`OpenAIHelper().chat(messages, model=None, temperature=0.7, max_tokens=None, **kw) -> str`."""

    def __init__(self, api_key: str | None = None, api_base: str | None = None, model: str | None = None):
        self._client = ModelClient(api_key=api_key, api_base=api_base, model=model)
        self.model = self._client.model

    @property
    def client(self) -> Any:
        return self._client.openai

    def chat(self, messages: list[dict], model: str | None = None, temperature: float = 0.7,
             max_tokens: int | None = None, **kwargs: Any) -> str:
        return self._client.chat(messages, model=model, temperature=temperature, max_tokens=max_tokens, **kwargs)
