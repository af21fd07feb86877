"""Honest fake model providers for meta-agent tests: one aiohttp server on 127.0.0.1 that speaks the OpenAI Chat
Completions and Responses APIs, the Anthropic Messages API and the Gemini API, and scripts a short session.

    async with FakeProviders(session_commands(...)) as fake:     # fake.url == "http://127.0.0.1:PORT"
        ... run the tool with its base URL pointing at fake.url (+ "/v1" for OpenAI-style clients) ...
        fake.requests                                            # (api, path, body, headers) of every call

The session is a list of shell commands. Each model call answers with the next command as a call of the shell
tool the client declared (found by name and filled in by its JSON schema: `bash`/`Bash`/`shell`/`exec_command`/
`run_shell_command`...), chosen by how many tool results the request already carries, so retries and auxiliary
calls do not shift the script; after the last command it answers with plain text (the end of the session). A
request that declares no tools gets plain text. Streaming follows each provider's wire format (SSE events).
Usage is reported on every reply (prompt ~ chars/4).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from aiohttp import web

FINAL_TEXT = "Done: agent.py is written and was evaluated."
SHELL_NAMES = ("bash", "shell", "exec_command", "shell_command", "run_shell_command", "local_shell")


@dataclass
class Received:
    api: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


def session_commands(agent_source: str, *, submit: str | None = None) -> list[str]:
    """The scripted session: write agent.py, evaluate it through the evaluation service, (submit)."""
    write = f"cat > agent.py <<'PYEOF'\n{agent_source.strip()}\nPYEOF\necho wrote agent.py"
    evaluate = ('curl -sS -X POST "$EVALUATION_API_URL/evaluate/agent" -H "Content-Type: application/json" '
                '-d \'{"agent_file": "agent.py", "first_k": 3}\' > eval.json; cat eval.json')
    return [write, evaluate] + ([submit] if submit else [])


def _tokens(value: Any) -> int:
    return max(1, math.ceil(len(json.dumps(value)) / 4))


def _shell_tool(tools: list[tuple[str, dict]]) -> tuple[str, dict] | None:
    by_name = {name.lower(): (name, schema) for name, schema in tools}
    for wanted in SHELL_NAMES:
        if wanted in by_name:
            return by_name[wanted]
    return None


def _arguments(schema: dict, command: str) -> dict[str, Any]:
    """Fill the shell tool's main parameter: an array gets ["bash", "-lc", cmd], a string gets cmd."""
    props = schema.get("properties") or {}
    for key in ("command", "cmd", "script"):
        if key in props:
            kind = str(props[key].get("type", "string")).lower()
            return {key: ["bash", "-lc", command] if kind == "array" else command}
    return {"command": command}


class FakeProviders:
    """`api_key`, when set, must come with every request (as a provider's client sends it: a bearer token,
    x-api-key or x-goog-api-key); otherwise the answer is a 401, as a provider's would be. `models` are the
    names its model lists show (it answers any model name)."""

    def __init__(self, commands: list[str], *, final_text: str = FINAL_TEXT, api_key: str | None = None,
                 models: tuple[str, ...] = ("fake-model",)):
        self.commands, self.final_text, self.api_key, self.models = commands, final_text, api_key, models
        self.requests: list[Received] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application(client_max_size=64 << 20, middlewares=[self._auth])
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1beta/models/{call}", self._gemini)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/v1beta/models", self._gemini_models)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.url = f"http://{host}:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeProviders:
        if not self.url:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def calls(self, api: str) -> list[Received]:
        return [r for r in self.requests if r.api == api]

    async def _record(self, api: str, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        self.requests.append(Received(api, request.path_qs, body, {k.lower(): v for k, v in request.headers.items()}))
        return body

    def _next(self, done: int, tools: list[tuple[str, dict]]) -> tuple[str, dict] | None:
        """(tool name, arguments) of the next scripted command, or None: answer with the final text."""
        shell = _shell_tool(tools)
        if shell is None or done >= len(self.commands):
            return None
        return shell[0], _arguments(shell[1], self.commands[done])

    async def _unknown(self, request: web.Request) -> web.Response:
        await self._record("unknown", request)
        return web.json_response({"error": {"message": f"fake provider: no route {request.path}"}}, status=404)

    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.api_key is not None:
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            sent = {bearer, request.headers.get("x-api-key"), request.headers.get("x-goog-api-key"),
                    request.query.get("key")}
            if self.api_key not in sent:
                return web.json_response({"error": {"message": "invalid api key", "type": "authentication_error"}},
                                         status=401)
        return await handler(request)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": m, "object": "model"} for m in self.models]})

    async def _gemini_models(self, request: web.Request) -> web.Response:
        return web.json_response({"models": [{"name": f"models/{m}", "displayName": m} for m in self.models]})

    # -- OpenAI Chat Completions -----------------------------------------------------------------------------
    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await self._record("chat", request)
        tools = [(t["function"]["name"], t["function"].get("parameters") or {}) for t in body.get("tools") or []
                 if isinstance(t, dict) and isinstance(t.get("function"), dict)]
        done = sum(1 for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "tool")
        step = self._next(done, tools)
        message: dict[str, Any] = {"role": "assistant", "content": self.final_text if step is None else
                                   f"Step {done + 1}: running a command."}
        if step is not None:
            message["tool_calls"] = [{"id": f"call_{done}", "type": "function",
                                      "function": {"name": step[0], "arguments": json.dumps(step[1])}}]
        usage = {"prompt_tokens": _tokens(body.get("messages")), "completion_tokens": _tokens(message)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        finish = "stop" if step is None else "tool_calls"
        reply = {"id": f"chatcmpl-{done}", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
                 "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage}
        if not body.get("stream"):
            return web.json_response(reply)
        delta = {**message, "tool_calls": [{**c, "index": 0} for c in message.get("tool_calls", [])]}
        chunk = {**reply, "object": "chat.completion.chunk",
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return await _sse(request, [(None, chunk), (None, {**chunk, "choices": [], "usage": usage})], done=True)

    # -- OpenAI Responses (codex) ----------------------------------------------------------------------------
    async def _responses(self, request: web.Request) -> web.StreamResponse:
        body = await self._record("responses", request)
        tools = [(t.get("name", ""), t.get("parameters") or {}) for t in body.get("tools") or [] if isinstance(t, dict)]
        items = [i for i in body.get("input") or [] if isinstance(i, dict)]
        done = sum(1 for i in items if str(i.get("type", "")).endswith("_call_output"))
        step = self._next(done, tools)
        if step is None:
            item = {"type": "message", "id": f"msg_{done}", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": self.final_text, "annotations": []}]}
        else:
            item = {"type": "function_call", "id": f"fc_{done}", "call_id": f"call_{done}", "name": step[0],
                    "arguments": json.dumps(step[1]), "status": "completed"}
        usage = {"input_tokens": _tokens(items), "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens": _tokens(item), "output_tokens_details": {"reasoning_tokens": 0}}
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        response = {"id": f"resp_{done}", "object": "response", "created_at": 0, "status": "completed",
                    "model": body.get("model", ""), "output": [item], "usage": usage}
        if not body.get("stream"):
            return web.json_response(response)
        events = [("response.created", {"type": "response.created", "response": {**response, "status": "in_progress",
                                                                                 "output": [], "usage": None}}),
                  ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": item}),
                  ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
                  ("response.completed", {"type": "response.completed", "response": response})]
        return await _sse(request, events)

    # -- Anthropic Messages (claude code) --------------------------------------------------------------------
    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await self._record("messages", request)
        tools = [(t.get("name", ""), t.get("input_schema") or {}) for t in body.get("tools") or [] if isinstance(t, dict)]
        done = sum(1 for m in body.get("messages") or [] if isinstance(m, dict) and isinstance(m.get("content"), list)
                   for block in m["content"] if isinstance(block, dict) and block.get("type") == "tool_result")
        step = self._next(done, tools)
        blocks: list[dict[str, Any]] = [{"type": "text", "text": self.final_text if step is None else
                                         f"Step {done + 1}: running a command."}]
        if step is not None:
            blocks.append({"type": "tool_use", "id": f"toolu_{done}", "name": step[0], "input": step[1]})
        usage = {"input_tokens": _tokens(body.get("messages")), "output_tokens": _tokens(blocks),
                 "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
        stop = "end_turn" if step is None else "tool_use"
        message = {"id": f"msg_{done}", "type": "message", "role": "assistant", "model": body.get("model", ""),
                   "content": blocks, "stop_reason": stop, "stop_sequence": None, "usage": usage}
        if not body.get("stream"):
            return web.json_response(message)
        events = [("message_start", {"type": "message_start", "message": {**message, "content": [],
                                                                          "stop_reason": None}})]
        for i, block in enumerate(blocks):
            if block["type"] == "text":
                events += [("content_block_start", {"type": "content_block_start", "index": i,
                                                    "content_block": {"type": "text", "text": ""}}),
                           ("content_block_delta", {"type": "content_block_delta", "index": i,
                                                    "delta": {"type": "text_delta", "text": block["text"]}})]
            else:
                events += [("content_block_start", {"type": "content_block_start", "index": i, "content_block":
                                                    {"type": "tool_use", "id": block["id"], "name": block["name"],
                                                     "input": {}}}),
                           ("content_block_delta", {"type": "content_block_delta", "index": i, "delta": {
                               "type": "input_json_delta", "partial_json": json.dumps(block["input"])}})]
            events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        events += [("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                      "usage": {"output_tokens": usage["output_tokens"]}}),
                   ("message_stop", {"type": "message_stop"})]
        return await _sse(request, events)

    # -- Gemini (gemini-cli) ---------------------------------------------------------------------------------
    async def _gemini(self, request: web.Request) -> web.StreamResponse:
        call = request.match_info["call"]
        body = await self._record("gemini", request)
        if call.endswith(":countTokens"):
            return web.json_response({"totalTokens": _tokens(body)})
        declared = [(f.get("name", ""), f.get("parameters") or f.get("parametersJsonSchema") or {})
                    for t in body.get("tools") or [] if isinstance(t, dict)
                    for f in t.get("functionDeclarations") or [] if isinstance(f, dict)]
        contents = [c for c in body.get("contents") or [] if isinstance(c, dict)]
        done = sum(1 for c in contents for p in c.get("parts") or [] if isinstance(p, dict) and "functionResponse" in p)
        step = self._next(done, declared)
        parts: list[dict[str, Any]] = [{"text": self.final_text if step is None else f"Step {done + 1}: running."}]
        if step is not None:
            parts.append({"functionCall": {"name": step[0], "args": step[1]}})
        reply = {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
                 "usageMetadata": {"promptTokenCount": _tokens(contents), "candidatesTokenCount": _tokens(parts),
                                   "totalTokenCount": _tokens(contents) + _tokens(parts)},
                 "modelVersion": call.split(":")[0]}
        if call.endswith(":streamGenerateContent"):
            return await _sse(request, [(None, reply)])
        return web.json_response(reply)


async def _sse(request: web.Request, events: list[tuple[str | None, dict]], *, done: bool = False) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        await response.write(f"{head}data: {json.dumps(data)}\n\n".encode())
    if done:
        await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response
