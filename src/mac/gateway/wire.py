"""OpenAI wire-format helpers shared by the gateway and its backends: errors, text extraction, token estimates."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
from aiohttp import web

from mac.errors import GatewayError


_compact_json = json.JSONEncoder(separators=(",", ":")).encode


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes: orjson on the hot path; the json module for what orjson refuses (lone surrogates,
    integers beyond 64 bits, non-string keys), ASCII-escaped so any upstream can read it."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return _compact_json(obj).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON: orjson, else the json module for what only it accepts (NaN, Infinity, lone surrogates);
    ValueError when neither can."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


class UpstreamError(GatewayError):
    """The backend failed: `status` is what the gateway answers, `kind` the error type, `message` is safe to show."""

    def __init__(self, status: int, message: str, kind: str = "upstream_error"):
        super().__init__(f"upstream error {status}: {message}")
        self.status, self.message, self.kind = status, message, kind


class RequestError(GatewayError):
    """The client's request is malformed (400)."""


class RawReply(dict):  # type: ignore[type-arg]
    """A parsed upstream reply that keeps the bytes it came from, so the gateway can pass them on unchanged."""

    __slots__ = ("raw",)

    def __init__(self, parsed: dict[str, Any], raw: bytes):
        super().__init__(parsed)
        self.raw = raw


def estimate_tokens(chars: int) -> int:
    """The gateway's estimate when nobody reports usage: about four characters a token."""
    return math.ceil(chars / 4)


def content_text(content: Any) -> str:
    """The text of a message `content`: a string or a list of parts (only text parts count)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def prompt_text(messages: list[Any]) -> str:
    """All message texts, joined by newlines (what the sim reads and the input estimate counts)."""
    return "\n".join(content_text(m.get("content")) for m in messages if isinstance(m, dict))


TEXT_PARTS = ("text", "refusal")
"""Content part types a request may carry: their tokens are at most their bytes, which the gateway reserves."""


def validate_chat(body: Any) -> tuple[list[Any], int, bool]:
    """(messages, n, stream) of a chat-completions body, or RequestError naming what is wrong."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("'messages' must be a non-empty list of {role, content} objects")
    n = body.get("n", 1)
    if n is None:
        n = 1
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 128:
        raise RequestError("'n' must be an integer between 1 and 128")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise RequestError("'stream' must be true or false")
    for key in ("max_tokens", "max_completion_tokens"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise RequestError(f"'{key}' must be a positive integer")
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(not isinstance(p, dict) or p.get("type") not in TEXT_PARTS
                                             for p in content):
            raise RequestError("message content parts must be text: the task model takes text only (an image, "
                               "audio or file part costs prompt tokens the gateway cannot reserve in advance)")
    return messages, n, stream


def error_body(status: int, kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": kind, "code": status, "message": message, **extra}}


def error_response(status: int, kind: str, message: str, **extra: Any) -> web.Response:
    return web.Response(status=status, body=dumps(error_body(status, kind, message, **extra)),
                        content_type="application/json")


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + dumps(payload) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"
