"""The `openai` backend: any OpenAI-compatible upstream (vLLM, SGLang, OpenAI, ...) over one shared session.

The upstream key is read from the controller's environment (the variable `TaskModelSpec.api_key_env` names) and
lives only in this object's session headers: it is never logged, and any upstream text that echoes it is scrubbed.
"""

from __future__ import annotations

import os
from typing import Any
from collections.abc import AsyncGenerator

import aiohttp
from yarl import URL

from mac.config import TaskModelSpec
from mac.errors import GatewayError
from mac.gateway.backend import Backend
from mac.gateway.wire import RawReply, UpstreamError, dumps, loads

_MIN_SECRET_CHARS = 8


class OpenAIBackend(Backend):
    """Forward to `base_url` (e.g. "http://127.0.0.1:8000/v1") as `model`, authenticating with `api_key` if any."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *, timeout_sec: float = 600.0,
                 connect_timeout_sec: float = 30.0, prices: tuple[float, float] = (0.0, 0.0), max_connections: int = 1024,
                 max_output_tokens: int = Backend.max_output_tokens):
        if not base_url.startswith(("http://", "https://")):
            raise GatewayError(f"task-model base URL {base_url!r} must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1)")
        self.base_url = base_url.rstrip("/")
        self.upstream_model = model
        self.timeout_sec = timeout_sec
        self.price_input_per_mtok, self.price_output_per_mtok = prices
        self.max_output_tokens = max_output_tokens
        self._key = api_key or None
        # Placeholders like "EMPTY" (local servers without auth) are no secret, and scrubbing them would mangle text.
        self._key_bytes = self._key.encode() if self._key and len(self._key) >= _MIN_SECRET_CHARS else b""
        self._connect_timeout = connect_timeout_sec
        self._max_connections = max_connections
        self._chat_url = URL(f"{self.base_url}/chat/completions")
        self.session: aiohttp.ClientSession | None = None

    @classmethod
    def from_spec(cls, spec: TaskModelSpec) -> OpenAIBackend:
        """A backend for `spec`; the key comes from `os.environ[spec.api_key_env]` (none: no Authorization header)."""
        return cls(spec.base_url or "https://api.openai.com/v1", spec.name, os.environ.get(spec.api_key_env),
                   prices=(spec.price_input_per_mtok, spec.price_output_per_mtok), max_output_tokens=spec.max_output_tokens)

    def __repr__(self) -> str:
        return f"OpenAIBackend({self.base_url!r}, model={self.upstream_model!r}, key={'set' if self._key else 'none'})"

    async def start(self) -> None:
        if self.session is None:
            # aiohttp sets TCP_NODELAY on every connection it makes; pass no socket options that would replace it.
            connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0, ttl_dns_cache=300)
            headers = {"Content-Type": "application/json"}  # set once here, not merged into every request
            if self._key:
                headers["Authorization"] = f"Bearer {self._key}"
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout)
            # No cookie jar: upstream cookies have no use here, and skipping them saves work on every call.
            self.session = aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout,
                                                 cookie_jar=aiohttp.DummyCookieJar())

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def _post(self, body: dict[str, Any]) -> aiohttp.ClientResponse:
        if self.session is None:
            raise GatewayError("the OpenAI backend is not started: use it inside `async with Gateway(...)`")
        data = dumps(body)
        try:
            response = await self.session.post(self._chat_url, data=data)
        except aiohttp.ClientError as exc:
            raise UpstreamError(502, f"cannot reach the upstream model server ({type(exc).__name__})") from exc
        if response.status >= 400:
            try:
                raw = await response.read()
            finally:
                response.release()
            raise self._error(response.status, raw)
        return response

    async def complete(self, body: dict[str, Any], caller: str) -> dict[str, Any]:
        response = await self._post(body)
        try:
            raw = await response.read()
        except aiohttp.ClientError as exc:
            raise UpstreamError(502, f"the upstream connection failed mid-reply ({type(exc).__name__})") from exc
        finally:
            response.release()
        raw = self._scrub_bytes(raw)
        try:
            result = loads(raw)
        except ValueError as exc:
            raise UpstreamError(502, "the upstream sent a reply that is not JSON") from exc
        if not isinstance(result, dict):
            raise UpstreamError(502, "the upstream sent a reply that is not a JSON object")
        return RawReply(result, raw)

    async def stream(self, body: dict[str, Any], caller: str) -> AsyncGenerator[dict[str, Any], None]:
        response = await self._post(body)
        finished = False
        try:
            async for line in response.content:
                if not line.startswith(b"data:"):
                    continue
                data = self._scrub_bytes(line[5:].strip())
                if data == b"[DONE]":
                    finished = True
                    break
                try:
                    yield loads(data)
                except ValueError as exc:
                    raise UpstreamError(502, "the upstream sent a stream chunk that is not JSON") from exc
            finished = True
        except aiohttp.ClientError as exc:
            raise UpstreamError(502, f"the upstream stream broke ({type(exc).__name__})") from exc
        finally:
            # A stream abandoned half-way closes the connection, which tells the upstream to stop generating.
            response.release() if finished else response.close()

    def _error(self, status: int, raw: bytes) -> UpstreamError:
        if status in (401, 403):
            return UpstreamError(502, "the upstream model server rejected the gateway's credentials (operator: check the task-model key)")
        message = raw.decode("utf-8", "replace")[:2000]
        try:
            detail = loads(raw).get("error")
            message = str(detail.get("message", message)) if isinstance(detail, dict) else str(detail or message)
        except (ValueError, AttributeError):
            pass
        return UpstreamError(status if status >= 400 else 502, self.scrub(message))

    def _scrub_bytes(self, raw: bytes) -> bytes:
        return raw.replace(self._key_bytes, b"***") if self._key_bytes and self._key_bytes in raw else raw

    def scrub(self, text: str) -> str:
        """`text` without the upstream key, should the upstream have echoed it."""
        return text.replace(self._key, "***") if self._key_bytes and self._key else text
