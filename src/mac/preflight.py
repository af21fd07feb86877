"""Check model endpoints before any budget is spent: `mac run`, `mac eval`, `mac baseline` and `mac verify`
call `check_endpoints` first, so a dead server, a wrong model name or a bad key fails in seconds with a clear
error (PreflightError) instead of as a trial full of 502s that reads like a real score of 0.

    check_endpoints([task_model_endpoint(spec), adapter.model_endpoint()])   # None entries are skipped

Each check asks the endpoint's model list with the key (reachability and auth in one call) and looks for the
model there. When the list is missing, or does not name the model (servers that answer to aliases), one tiny
completion (a few tokens, outside every trial quota) settles it: a 404, or a 400 that says the model does not
exist, is a wrong model name; any other answer means the server knows the model.
Wire formats: `openai` (GET /models, POST /chat/completions), `anthropic` (GET /v1/models, POST /v1/messages,
x-api-key) and `gemini` (GET /v1beta/models, POST /v1beta/models/NAME:generateContent, x-goog-api-key).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from mac.config import TaskModelSpec
from mac.errors import PreflightError

TIMEOUT_SEC = 20.0
"""Longest wait for one endpoint (connect and answer)."""
MAX_LISTED = 8
"""Model names quoted in a wrong-model error."""
_MODEL_MISSING = ("does not exist", "not found", "unknown model", "invalid model", "no such model", "not_found",
                  "model_not_found")
ANTHROPIC_ALIASES = ("sonnet", "opus", "haiku", "default", "opusplan")
"""Claude Code's own model aliases: not API names, so not checked against the list."""


@dataclass(frozen=True)
class Endpoint:
    """One model endpoint to check. `fix` names the flags or variables that set it (quoted in errors)."""

    role: str
    """What it serves, as errors name it: "task model", "meta-agent model"."""
    api: str
    """Wire format: "openai", "anthropic" or "gemini"."""
    base_url: str
    model: str | None = None
    """The model to find (None: reachability and auth only)."""
    key: str | None = field(default=None, repr=False)
    key_source: str = ""
    """Where the key came from, e.g. "$OPENAI_API_KEY" (never the key itself)."""
    fix: str = ""


def task_model_endpoint(spec: TaskModelSpec) -> Endpoint | None:
    """The task model's upstream (None for `sim`: there is nothing to reach)."""
    import os

    if spec.simulated:
        return None
    return Endpoint(role="task model", api="openai", base_url=spec.base_url or "https://api.openai.com/v1",
                    model=spec.name, key=os.environ.get(spec.api_key_env) or None, key_source=f"${spec.api_key_env}",
                    fix=f"--task-model openai:NAME, --base-url URL, ${spec.api_key_env}")


def check_endpoints(endpoints: list[Endpoint | None], *, timeout_sec: float = TIMEOUT_SEC) -> list[str]:
    """Check every endpoint (concurrently); one line per endpoint saying what was verified. Raises
    PreflightError naming every endpoint that failed and how to fix it."""
    chosen = [e for e in endpoints if e is not None]
    if not chosen:
        return []
    outcomes = asyncio.run(_check_all(chosen, timeout_sec))
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, PreflightError):
            raise outcome  # a bug here, not a verdict on the endpoint
    failures = [str(o) for o in outcomes if isinstance(o, PreflightError)]
    if failures:
        raise PreflightError("; ".join(failures))
    return [str(o) for o in outcomes]


async def _check_all(endpoints: list[Endpoint], timeout_sec: float) -> list[Any]:
    timeout = aiohttp.ClientTimeout(total=timeout_sec, sock_connect=min(10.0, timeout_sec))
    async with aiohttp.ClientSession(timeout=timeout, trust_env=False) as session:
        return await asyncio.gather(*(_check_one(session, e) for e in endpoints), return_exceptions=True)


async def _check_one(session: aiohttp.ClientSession, ep: Endpoint) -> str:
    probe = _PROBES.get(ep.api)
    if probe is None:
        raise PreflightError(f"{ep.role}: unknown API {ep.api!r}")
    try:
        return await probe(session, ep)
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        why = type(exc).__name__ if not str(exc) else f"{type(exc).__name__}: {_scrub(str(exc), ep)[:160]}"
        raise PreflightError(f"the {ep.role} endpoint {ep.base_url} cannot be reached ({why}): is the server "
                             f"running and the URL right? (set by {ep.fix})") from None


async def _request(session: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str],
                   body: dict[str, Any] | None = None) -> tuple[int, Any, str]:
    """(status, parsed JSON or None, short text) of one request."""
    async with session.request(method, url, headers=headers, json=body) as response:
        raw = await response.content.read(1 << 20)
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    return response.status, data, text[:300]


def _scrub(text: str, ep: Endpoint) -> str:
    return text.replace(ep.key, "***") if ep.key and len(ep.key) >= 8 else text


def _message(data: Any, text: str, ep: Endpoint) -> str:
    error = data.get("error") if isinstance(data, dict) else None
    found = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else None
    return _scrub(" ".join(str(found or text).split())[:200], ep)


def _auth_error(ep: Endpoint, status: int, detail: str) -> PreflightError:
    source = f" in {ep.key_source}" if ep.key and ep.key_source else ""
    missing = "" if ep.key else f" (no key was sent: set {ep.key_source or 'the key'})"
    return PreflightError(f"the {ep.role} endpoint {ep.base_url} refused the key{source} (HTTP {status}: "
                          f"{detail}){missing}: check the key")


def _status_error(ep: Endpoint, what: str, status: int, detail: str) -> PreflightError:
    return PreflightError(f"the {ep.role} endpoint {ep.base_url} answered HTTP {status} to {what} ({detail}): "
                          f"the server is not usable as it is (set by {ep.fix})")


def _wrong_model(ep: Endpoint, listed: list[str], detail: str = "") -> PreflightError:
    shown = ", ".join(listed[:MAX_LISTED]) + (" ..." if len(listed) > MAX_LISTED else "")
    serves = f"; it lists: {shown}" if listed else ""
    why = f" ({detail})" if detail else ""
    return PreflightError(f"the {ep.role} endpoint {ep.base_url} does not serve model {ep.model!r}{why}{serves}: "
                          f"check the model name (set by {ep.fix})")


async def _settle_model(session: aiohttp.ClientSession, ep: Endpoint, listed: list[str], url: str,
                        headers: dict[str, str], body: dict[str, Any]) -> str:
    """The model is not in the list (or there is no list): one tiny completion decides."""
    status, data, text = await _request(session, "POST", url, headers, body)
    detail = _message(data, text, ep)
    if status in (401, 403):
        raise _auth_error(ep, status, detail)
    if status == 404 or (status in (400, 422) and any(m in detail.lower() for m in _MODEL_MISSING)):
        raise _wrong_model(ep, listed, detail)
    if status >= 500:
        raise _status_error(ep, "a one-token completion", status, detail)
    return f"{ep.role} {ep.model!r} at {ep.base_url}: reachable, key accepted, model answers"


async def _model_list(session: aiohttp.ClientSession, ep: Endpoint, url: str, headers: dict[str, str], *,
                      field_name: str = "id", key: str = "data") -> tuple[int, list[str]]:
    """(status, model names) of the endpoint's model list; PreflightError for a refused key or a broken server."""
    status, data, text = await _request(session, "GET", url, headers)
    detail = _message(data, text, ep)
    if status in (401, 403) or (status == 400 and "key" in detail.lower()):  # Google answers a bad key with 400
        raise _auth_error(ep, status, detail)
    if status >= 500:
        raise _status_error(ep, f"GET {url.removeprefix(ep.base_url.rstrip('/'))}", status, detail)
    return status, _ids(data, field_name, key)


async def _probe_openai(session: aiohttp.ClientSession, ep: Endpoint) -> str:
    base = ep.base_url.rstrip("/")
    headers = {"Authorization": f"Bearer {ep.key}"} if ep.key else {}
    status, listed = await _model_list(session, ep, f"{base}/models", headers)
    if ep.model is None:
        return f"{ep.role} at {base}: reachable, key accepted"
    if status == 200 and ep.model in listed:
        return f"{ep.role} {ep.model!r} at {base}: reachable, key accepted, model listed"
    body = {"model": ep.model, "messages": [{"role": "user", "content": "Reply with OK."}], "max_tokens": 1}
    return await _settle_model(session, ep, listed, f"{base}/chat/completions", headers, body)


async def _probe_anthropic(session: aiohttp.ClientSession, ep: Endpoint) -> str:
    base = ep.base_url.rstrip("/").removesuffix("/v1")
    headers = {"anthropic-version": "2023-06-01", **({"x-api-key": ep.key} if ep.key else {})}
    status, listed = await _model_list(session, ep, f"{base}/v1/models", headers)
    if ep.model is None or ep.model in ANTHROPIC_ALIASES or (status == 200 and ep.model in listed):
        return f"{ep.role} at {base}: reachable, key accepted"
    body = {"model": ep.model, "max_tokens": 1, "messages": [{"role": "user", "content": "Reply with OK."}]}
    return await _settle_model(session, ep, listed, f"{base}/v1/messages", headers, body)


async def _probe_gemini(session: aiohttp.ClientSession, ep: Endpoint) -> str:
    base = ep.base_url.rstrip("/")
    headers = {"x-goog-api-key": ep.key} if ep.key else {}
    status, names = await _model_list(session, ep, f"{base}/v1beta/models?pageSize=1000", headers,
                                      field_name="name", key="models")
    listed = [name.removeprefix("models/") for name in names]
    if ep.model is None or (status == 200 and ep.model in listed):
        return f"{ep.role} at {base}: reachable, key accepted" + (", model listed" if ep.model else "")
    body = {"contents": [{"parts": [{"text": "Reply with OK."}]}], "generationConfig": {"maxOutputTokens": 1}}
    return await _settle_model(session, ep, listed, f"{base}/v1beta/models/{ep.model}:generateContent", headers, body)


def _ids(data: Any, field_name: str, key: str = "data") -> list[str]:
    items = data.get(key) if isinstance(data, dict) else None
    return [str(i[field_name]) for i in items or [] if isinstance(i, dict) and i.get(field_name)]


_PROBES = {"openai": _probe_openai, "anthropic": _probe_anthropic, "gemini": _probe_gemini}
