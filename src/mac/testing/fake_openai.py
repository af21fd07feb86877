"""An honest fake OpenAI-compatible upstream: a real aiohttp server on 127.0.0.1 or a unix socket.

It stands in for what is outside MAC (vLLM, SGLang, OpenAI) in tests and benchmarks:

    async with FakeOpenAI(reply="pong", api_key="sk-upstream") as fake:     # fake.url == "http://127.0.0.1:PORT/v1"
        fake.push(FakeReply(status=500, error="overloaded"), "second reply")  # scripted replies, in order
        ...
        fake.received[-1].body["model"]                                      # what the upstream saw

Replies are instant unless `delay_sec` (or a scripted reply's delay) says otherwise;
`chunk_delay_sec` spaces out stream chunks. `reply` may be a string or a
function of the request body. Streaming (SSE) follows OpenAI's wire format; usage is reported in replies and, when
`stream_options.include_usage` is set, as a final usage chunk (turn `report_usage` off to see how a client copes
without it). An error reply's message may contain "{auth}", replaced by the Authorization header the fake got:
some real upstreams echo keys in errors, and the gateway must not pass them on.

`image_tokens=85` charges that many prompt tokens per image part (OpenAI's price of a low-detail image, whatever
the size of its URL); by default only text counts.

Modes for failure tests: `models=["m1"]` lists only those models and answers any other with a 404 (as vLLM and
OpenAI do); `fail_status=500` fails every unscripted chat request with that status (an upstream that is down).

Run standalone (benchmarks, CLI tests): `python -m mac.testing.fake_openai --port 0` prints "READY <url>" and
serves (`--models`, `--api-key`, `--fail-status` set the modes above).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

from aiohttp import web

ReplyFn = Callable[[dict[str, Any]], str]


@dataclass
class FakeReply:
    """One scripted reply. `status` >= 400 sends an OpenAI-style error with message `error`."""

    text: str = "ok"
    status: int = 200
    error: str = "scripted error"
    delay_sec: float = 0.0
    finish_reason: str = "stop"


@dataclass
class ReceivedRequest:
    """What the fake saw: the JSON body and the headers (lower-case names)."""

    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _prompt_chars(body: dict[str, Any]) -> int:
    total = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content)
        elif isinstance(content, list):
            total += sum(len(p.get("text", "")) for p in content if isinstance(p, dict))
    return total


def _image_parts(body: dict[str, Any]) -> int:
    return sum(1 for message in body.get("messages") or [] if isinstance(message, dict)
               and isinstance(message.get("content"), list)
               for part in message["content"] if isinstance(part, dict) and part.get("type") == "image_url")


class FakeOpenAI:
    """A fake upstream. Use `async with`, or `await start()` / `await close()`."""

    def __init__(
        self,
        reply: str | ReplyFn = "ok",
        *,
        delay_sec: float = 0.0,
        api_key: str | None = None,
        report_usage: bool = True,
        record: bool = True,
        chunk_chars: int = 8,
        chunk_delay_sec: float = 0.0,
        models: list[str] | None = None,
        fail_status: int | None = None,
        image_tokens: int = 0,
    ):
        self.reply = reply
        self.delay_sec = delay_sec
        self.api_key = api_key
        self.report_usage = report_usage
        self.record = record
        self.chunk_chars = chunk_chars
        self.chunk_delay_sec = chunk_delay_sec
        self.models = list(models) if models is not None else None
        self.fail_status = fail_status
        self.image_tokens = image_tokens
        self.received: list[ReceivedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._script: deque[FakeReply] = deque()
        self._runner: web.AppRunner | None = None
        self.url: str = ""

    def push(self, *replies: FakeReply | str) -> None:
        """Queue scripted replies; each request takes the next one, then the default reply."""
        self._script.extend(r if isinstance(r, FakeReply) else FakeReply(text=r) for r in replies)

    async def start(self, host: str = "127.0.0.1", port: int = 0, path: Path | None = None) -> str:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        if path is not None:
            site: web.BaseSite = web.UnixSite(self._runner, str(path))
            await site.start()
            self.url = "http://localhost/v1"
        else:
            tcp = web.TCPSite(self._runner, host, port)
            await tcp.start()
            bound = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://{host}:{bound}/v1"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        if not self.url:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- handlers -------------------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return self.api_key is None or request.headers.get("Authorization") == f"Bearer {self.api_key}"

    async def _models(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._error(401, "invalid api key", "invalid_request_error")
        names = self.models if self.models is not None else ["fake-model"]
        return web.json_response({"object": "list", "data": [{"id": n, "object": "model", "owned_by": "fake"}
                                                             for n in names]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if self.record:
            self.received.append(ReceivedRequest(request.path, body, {k.lower(): v for k, v in request.headers.items()}))
        if not self._authorized(request):
            return self._error(401, "invalid api key", "invalid_request_error")
        if self.models is not None and body.get("model") not in self.models:
            return self._error(404, f"The model `{body.get('model')}` does not exist.", "NotFoundError")
        scripted = self._script.popleft() if self._script else None
        if scripted is None and self.fail_status is not None:
            scripted = FakeReply(status=self.fail_status, error="the fake upstream is failing on purpose")
        delay = scripted.delay_sec if scripted else self.delay_sec
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if delay:
                await asyncio.sleep(delay)
            if scripted is not None and scripted.status >= 400:
                message = scripted.error.replace("{auth}", request.headers.get("Authorization", ""))
                return self._error(scripted.status, message, "server_error" if scripted.status >= 500 else "invalid_request_error")
            text = scripted.text if scripted else (self.reply(body) if callable(self.reply) else self.reply)
            finish = scripted.finish_reason if scripted else "stop"
            if body.get("stream"):
                return await self._stream(request, body, text, finish)
            return web.json_response(self._completion(body, text, finish))
        finally:
            self.in_flight -= 1

    def _completion(self, body: dict[str, Any], text: str, finish: str) -> dict[str, Any]:
        n = int(body.get("n") or 1)
        choices = [{"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish,
                    "logprobs": None} for i in range(n)]
        result: dict[str, Any] = {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                                  "model": body.get("model", "fake-model"), "choices": choices}
        if self.report_usage:
            result["usage"] = self._usage(body, text, n)
        return result

    def _usage(self, body: dict[str, Any], text: str, n: int) -> dict[str, int]:
        prompt = math.ceil(_prompt_chars(body) / 4) + self.image_tokens * _image_parts(body)
        completion = _tokens(text) * n
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    async def _stream(self, request: web.Request, body: dict[str, Any], text: str, finish: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        model, n = body.get("model", "fake-model"), int(body.get("n") or 1)
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}

        async def send(choices: list[dict[str, Any]], **extra: Any) -> None:
            if self.chunk_delay_sec:
                await asyncio.sleep(self.chunk_delay_sec)
            await response.write(b"data: " + json.dumps({**base, "choices": choices, **extra}).encode() + b"\n\n")

        for i in range(n):
            await send([{"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
            for start in range(0, len(text), self.chunk_chars):
                piece = text[start:start + self.chunk_chars]
                await send([{"index": i, "delta": {"content": piece}, "finish_reason": None}])
            await send([{"index": i, "delta": {}, "finish_reason": finish}])
        if self.report_usage and (body.get("stream_options") or {}).get("include_usage"):
            await send([], usage=self._usage(body, text, n))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    @staticmethod
    def _error(status: int, message: str, kind: str) -> web.Response:
        return web.json_response({"error": {"message": message, "type": kind, "code": None}}, status=status)


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeOpenAI(args.reply, delay_sec=args.delay, record=False, api_key=args.api_key or None,
                      models=args.models.split(",") if args.models else None, fail_status=args.fail_status)
    url = await fake.start(host=args.host, port=args.port, path=Path(args.unix) if args.unix else None)
    print(f"READY {url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI-compatible upstream (tests, benchmarks).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--unix", default="", help="serve on this unix socket instead of TCP")
    parser.add_argument("--reply", default="ok")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--models", default="", help="comma-separated model names to serve (others: 404)")
    parser.add_argument("--api-key", default="", help="the key requests must carry")
    parser.add_argument("--fail-status", type=int, default=None, help="fail every chat request with this status")
    try:
        asyncio.run(_serve(parser.parse_args(argv)))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
