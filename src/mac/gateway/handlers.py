"""The gateway's HTTP endpoints: /v1/chat/completions (streaming and not), /v1/models, /v1/stats."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from aiohttp import web

from mac.errors import QuotaExceeded
from mac.gateway.meter import NOTHING, Meter, Reservation
from mac.gateway.state import Caller, GatewayState
from mac.gateway.wire import (SSE_DONE, RawReply, RequestError, UpstreamError, dumps, error_body, error_response,
                              estimate_tokens, loads, prompt_text, sse, validate_chat)

_CAP_FIELDS = ("max_tokens", "max_completion_tokens")
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Call:
    """One chat-completions request on its way through: what the log line and the meter need."""

    # Class-level defaults: a call sets only what differs (this runs on every request).
    n, stream, input_estimate, plan = 1, False, 0, NOTHING
    input_tokens = output_tokens = 0
    status: int = 200
    quota: str | None = None
    error: str | None = None

    def __init__(self, caller: Caller, raw: bytes):
        self.caller, self.started = caller, time.perf_counter()
        self.digest = hashlib.sha256(raw).hexdigest()


class Handlers:
    def __init__(self, state: GatewayState):
        self.state = state

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/chat/completions", self.chat), web.get("/v1/models", self.models),
                web.get("/v1/models/{name}", self.model), web.get("/v1/stats", self.stats)]

    # ---- small endpoints ---------------------------------------------------------------------------------------

    def _model_card(self) -> dict[str, Any]:
        return {"id": self.state.model_name, "object": "model", "created": 0, "owned_by": "mac-gateway"}

    async def models(self, request: web.Request) -> web.Response:
        caller = self.state.authorize(request)
        if isinstance(caller, web.Response):
            return caller
        return web.json_response({"object": "list", "data": [self._model_card()]})

    async def model(self, request: web.Request) -> web.Response:
        caller = self.state.authorize(request)
        if isinstance(caller, web.Response):
            return caller
        return web.json_response(self._model_card())

    async def stats(self, request: web.Request) -> web.Response:
        caller = self.state.authorize(request)
        if isinstance(caller, web.Response):
            return caller
        return web.json_response({**caller.meter.stats(), "model": self.state.model_name,
                                  "simulated": caller.meter.backend.simulated})

    # ---- chat completions ----------------------------------------------------------------------------------------

    async def chat(self, request: web.Request) -> web.StreamResponse:
        caller = self.state.authorize(request)
        if isinstance(caller, web.Response):
            return caller
        call = Call(caller, raw := await request.read())
        try:
            body = loads(raw)
            messages, call.n, call.stream = validate_chat(body)
        except (ValueError, RequestError) as exc:
            message = str(exc) if isinstance(exc, RequestError) else "the request body is not valid JSON"
            return self._finish(call, error_response(400, "invalid_request_error", message), error="bad_request")
        call.input_estimate = estimate_tokens(len(prompt_text(messages)))
        refusal = await self._admit(call, body, len(raw))
        if refusal is not None:
            return refusal
        self._prepare_upstream(body, caller.meter, call.plan)
        if call.stream:
            return await self._stream(request, call, body)
        return await self._complete(call, body)

    async def _admit(self, call: Call, body: dict[str, Any], size: int) -> web.StreamResponse | None:
        """Count the request against its token's rates and reserve its worst case against the budgets (waiting
        for room if it must); the refusal to send back, or None."""
        meter = call.caller.meter
        try:
            meter.admit(call.n, call.input_estimate)
        except QuotaExceeded as exc:
            return self._finish(call, self._quota_refusal(call, exc), error="quota_exceeded")
        try:
            wanted = _wanted(body, meter)
            plan = meter.try_reserve(call.n, size, wanted)
            call.plan = plan if plan is not None else await meter.reserve(call.n, size, wanted, meter.backend.timeout_sec)
        except QuotaExceeded as exc:
            meter.refund(call.n)
            return self._finish(call, self._quota_refusal(call, exc), error="quota_exceeded")
        except BaseException:
            meter.refund(call.n)
            raise
        if meter.revoked:  # its phase ended while it waited for room
            meter.refund(call.n, call.plan)
            return self._finish(call, error_response(401, "invalid_api_key", "this token was revoked (its phase is over)"),
                                error="unauthorized")
        return None

    def _prepare_upstream(self, body: dict[str, Any], meter: Meter, plan: Reservation) -> None:
        """Force the model name; clamp max tokens to what the reservation holds per choice. A request with both
        fields goes upstream with the smaller one (the one reserved) in both: upstreams differ in which they
        read (vLLM and SGLang take max_completion_tokens first)."""
        body["model"] = meter.backend.upstream_model
        asked = [k for k in _CAP_FIELDS if body.get(k) is not None]
        cap = plan.cap
        if cap is None:
            if len(asked) < 2 or body[asked[0]] == body[asked[1]]:
                return
            cap = min(body[k] for k in asked)
        for key in asked or [meter.backend.max_tokens_field]:
            body[key] = cap

    def _quota_refusal(self, call: Call, exc: QuotaExceeded) -> web.Response:
        meter, where = call.caller.meter, call.caller.where
        used = meter.used(exc.quota)
        meter.usage.refused += 1
        call.quota = exc.quota
        if exc.held:
            message = (f"quota '{exc.quota}' of this token is held by its requests in flight (used {used:g} of "
                       f"{exc.limit:g}, the rest reserved for their worst case); wait for them and retry")
        else:
            message = (f"quota '{exc.quota}' of this token cannot cover this request (used {used:g} of {exc.limit:g}, "
                       f"the request may need up to {exc.value - used:g}); "
                       + ("wait and retry" if exc.quota in ("concurrent", "rpm", "tpm")
                          else "send a smaller request, or no more calls can be made in this phase"))
        self.state.record("quota_exceeded", where, channel=where, token_id=meter.grant.token_id, quota=exc.quota,
                          limit=exc.limit, used=used, requested=exc.value - used)
        return error_response(429, "quota_exceeded", message, quota=exc.quota, limit=exc.limit, used=used)

    async def _complete(self, call: Call, body: dict[str, Any]) -> web.StreamResponse:
        meter = call.caller.meter
        backend = meter.backend
        try:
            async with asyncio.timeout(backend.timeout_sec):
                result = await backend.complete(body, meter.grant.token_id)
        except (UpstreamError, TimeoutError) as exc:
            meter.refund(call.n, call.plan)
            return self._finish(call, self._upstream_failure(call, exc), error="upstream")
        except BaseException:
            meter.refund(call.n, call.plan)
            raise
        raw_usage = result.get("usage")
        usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
        call.input_tokens = _count(usage.get("prompt_tokens"), call.input_estimate)
        call.output_tokens = _count(usage.get("completion_tokens"), None) if usage.get("completion_tokens") is not None \
            else estimate_tokens(sum(len(_message_text(c)) for c in result.get("choices") or []))
        meter.settle(call.plan, call.input_tokens, call.output_tokens, backend.cost(call.input_tokens, call.output_tokens))
        if isinstance(result, RawReply) and result.get("model") == self.state.model_name:
            data = result.raw  # already says the right model: pass the upstream's bytes on
        else:
            result["model"] = self.state.model_name
            data = dumps(result)
        return self._finish(call, web.Response(body=data, content_type="application/json"))

    async def _stream(self, request: web.Request, call: Call, body: dict[str, Any]) -> web.StreamResponse:
        meter = call.caller.meter
        backend = meter.backend
        wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        chunks = backend.stream(body, meter.grant.token_id)
        response, usage, chars = web.StreamResponse(headers=_SSE_HEADERS), None, 0
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(backend.timeout_sec) as deadline:
                async for chunk in chunks:
                    deadline.reschedule(loop.time() + backend.timeout_sec)
                    usage = chunk.get("usage") if isinstance(chunk.get("usage"), dict) else usage
                    chars += sum(len(_delta_text(c)) for c in chunk.get("choices") or [])
                    if not wants_usage:
                        chunk.pop("usage", None)
                        if not chunk.get("choices"):
                            continue
                    chunk["model"] = self.state.model_name
                    if not response.prepared:
                        await response.prepare(request)
                    await response.write(sse(chunk))
        except (UpstreamError, TimeoutError) as exc:
            if not response.prepared:
                meter.refund(call.n, call.plan)
                return self._finish(call, self._upstream_failure(call, exc), error="upstream")
            call.status, call.error = _failure_status(exc), "upstream_mid_stream"
            _count_upstream_error(meter, call.status)
            await _try_write(response, sse(error_body(call.status, "upstream_error", _failure_message(exc))))
        except (ConnectionError, asyncio.CancelledError):
            call.error = "client_disconnected"
            raise
        finally:
            await chunks.aclose()
            if call.error != "upstream" or response.prepared:
                self._settle_stream(call, usage, chars)
        if not response.prepared:
            await response.prepare(request)
        await _try_write(response, SSE_DONE)
        await response.write_eof()
        return self._finish(call, response)

    def _settle_stream(self, call: Call, usage: dict[str, Any] | None, chars: int) -> None:
        usage = usage or {}
        call.input_tokens = _count(usage.get("prompt_tokens"), call.input_estimate)
        call.output_tokens = _count(usage.get("completion_tokens"), estimate_tokens(chars))
        backend = call.caller.meter.backend
        call.caller.meter.settle(call.plan, call.input_tokens, call.output_tokens,
                                 backend.cost(call.input_tokens, call.output_tokens))
        if call.error == "client_disconnected":
            self._log(call)

    def _upstream_failure(self, call: Call, exc: Exception) -> web.Response:
        status = _failure_status(exc)
        _count_upstream_error(call.caller.meter, status)
        return error_response(status, getattr(exc, "kind", "upstream_timeout"), _failure_message(exc))

    def _finish(self, call: Call, response: web.StreamResponse, error: str | None = None) -> web.StreamResponse:
        call.status = response.status if call.status == 200 else call.status
        call.error = error or call.error
        self._log(call)
        return response

    def _log(self, call: Call) -> None:
        grant = call.caller.meter.grant
        self.state.log.write(
            phase=grant.phase, token_id=grant.token_id, label=grant.label, channel=call.caller.where,
            request_sha256=call.digest, model=self.state.model_name, n=call.n, stream=call.stream,
            input_tokens=call.input_tokens, output_tokens=call.output_tokens,
            latency_ms=round((time.perf_counter() - call.started) * 1000, 3), status=call.status, quota=call.quota,
            error=call.error)


def _wanted(body: dict[str, Any], meter: Meter) -> int:
    """The most output tokens per choice the request may produce: its max tokens, else the model's limit."""
    asked = [body[k] for k in _CAP_FIELDS if body.get(k) is not None]
    return min(asked) if asked else meter.backend.max_output_tokens


def _count_upstream_error(meter: Meter, status: int) -> None:
    """Count a failure of the upstream itself (5xx: server errors, connection errors as 502, timeouts as 504);
    an upstream 4xx (a bad request, the provider's rate limit) is the caller's doing and does not count."""
    if status >= 500:
        meter.usage.upstream_errors += 1


def _failure_status(exc: Exception) -> int:
    return exc.status if isinstance(exc, UpstreamError) else 504


def _failure_message(exc: Exception) -> str:
    return exc.message if isinstance(exc, UpstreamError) else "the upstream model did not answer in time"


def _count(value: Any, fallback: int | None) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return fallback or 0


def _message_text(choice: Any) -> str:
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        return ""
    return (message.get("content") or "") + (message.get("reasoning_content") or "")


def _delta_text(choice: Any) -> str:
    delta = choice.get("delta") if isinstance(choice, dict) else None
    if not isinstance(delta, dict):
        return ""
    return (delta.get("content") or "") + (delta.get("reasoning_content") or "")


async def _try_write(response: web.StreamResponse, data: bytes) -> None:
    try:
        await response.write(data)
    except ConnectionError:
        pass
