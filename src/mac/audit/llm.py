"""The LLM auditor's call and the checks on its answer.

One chat completion on a trusted-side OpenAI-compatible endpoint (aiohttp; the key comes from the
controller's environment variable named in AuditorConfig, never from the trial). The reply must be one JSON
object (mac.audit.prompt.SYSTEM); it is parsed with pydantic. A malformed reply or a failed call is retried
once (a malformed one with a note saying what was wrong); after that the rules decide alone.

What is kept of a valid reply: findings that cite at least one id and only ids the audit knows (others are
rejected and listed), and dismissals of heuristic rule findings that cite runtime counter-evidence.
"""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mac.audit.models import AuditFinding, AuditorConfig, FindingType, LLMReview, Severity
from mac.kinds import Verdict
from mac.audit.policy import contribution_level

MAX_REPLY_CHARS = 200_000
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)


class LLMFindingOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: FindingType
    severity: Severity
    summary: str = Field(max_length=4000)
    evidence_ids: list[str] = Field(default_factory=list, max_length=200)
    static_ids: list[str] = Field(default_factory=list, max_length=200)


class LLMDismissalOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    finding_id: str
    reason: str = Field(max_length=4000)
    counter_evidence_ids: list[str] = Field(default_factory=list, max_length=100)


class LLMOutput(BaseModel):
    model_config = ConfigDict(extra="ignore")
    verdict: Verdict
    findings: list[LLMFindingOut] = Field(default_factory=list, max_length=100)
    dismissals: list[LLMDismissalOut] = Field(default_factory=list, max_length=100)
    notes: str = ""


class _CallFailed(Exception):
    """The endpoint could not be reached or answered an error (never leaves this module)."""


def parse_reply(text: str) -> LLMOutput:
    """The JSON object in a reply (code fences and chatter around it are tolerated). Raises ValueError."""
    text = _FENCE.sub("", text.strip()[:MAX_REPLY_CHARS])
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the reply")
    try:
        return LLMOutput.model_validate(json.loads(text[start:end + 1]))
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValueError(f"schema: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


async def chat(config: AuditorConfig, messages: list[dict[str, str]]) -> str:
    body: dict[str, Any] = {"model": config.model, "messages": messages, "temperature": config.temperature}
    if config.json_mode:
        body["response_format"] = {"type": "json_object"}
    headers = {"Authorization": f"Bearer {config.api_key()}"} if config.api_key() else {}
    url = config.base_url.rstrip("/") + "/chat/completions"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=config.timeout_sec)) as session:
            async with session.post(url, json=body, headers=headers) as resp:
                if resp.status != 200:
                    raise _CallFailed(f"HTTP {resp.status} from {url}")
                data = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise _CallFailed(f"{type(exc).__name__}: {exc}"[:300]) from None
    try:
        return str(data["choices"][0]["message"]["content"] or "")
    except (KeyError, IndexError, TypeError):
        return ""  # treated as a malformed reply


async def ask_auditor(config: AuditorConfig, messages: list[dict[str, str]], *, known_ids: set[str],
                      rules: list[AuditFinding]) -> LLMReview:
    """Ask, retry once, validate. Never raises: a failure comes back as `ok=False` with the error."""
    error, attempts = "", 0
    for attempts in (1, 2):
        try:
            reply = await chat(config, messages)
        except _CallFailed as exc:
            error = str(exc)
            continue
        try:
            parsed = parse_reply(reply)
        except ValueError as exc:
            error = f"malformed reply: {exc}"
            messages = messages + [
                {"role": "assistant", "content": reply[:4000]},
                {"role": "user", "content": f"That reply was not usable ({exc}). Reply with the JSON object only, "
                                            "exactly in the format the system message gives."}]
            continue
        review = validate(parsed, known_ids=known_ids, rules=rules)
        review.model, review.attempts = config.model, attempts
        return review
    return LLMReview(model=config.model, ok=False, attempts=attempts, error=error)


def validate(out: LLMOutput, *, known_ids: set[str], rules: list[AuditFinding]) -> LLMReview:
    review = LLMReview(model="", ok=True, verdict=out.verdict, notes=out.notes[:2000])
    for f in out.findings:
        cited = list(dict.fromkeys(f.evidence_ids + f.static_ids))
        unknown = [i for i in cited if i not in known_ids]
        if not cited or unknown:
            why = f"cites unknown ids {unknown[:10]}" if unknown else "cites no evidence"
            review.rejected.append({"finding": f.model_dump(), "reason": why})
            continue
        review.findings.append(AuditFinding(
            id=f"lf-{len(review.findings) + 1}", type=f.type, severity=f.severity, source="llm", basis="llm",
            level=contribution_level(f.severity, observed=True), summary=f.summary[:1000],  # type: ignore[arg-type]
            static_ids=[i for i in cited if i.startswith("sf-")],
            evidence_ids=[i for i in cited if not i.startswith("sf-")]))
    by_id = {f.id: f for f in rules}
    for d in out.dismissals:
        problem = _dismissal_problem(d, by_id.get(d.finding_id), known_ids)
        if problem:
            review.rejected.append({"dismissal": d.model_dump(), "reason": problem})
        else:
            review.dismissals.append(d.model_dump())
    return review


def _dismissal_problem(d: LLMDismissalOut, target: AuditFinding | None, known_ids: set[str]) -> str | None:
    if target is None:
        return f"{d.finding_id!r} is not a rule finding"
    if target.basis != "heuristic":
        return "a finding resting on observed evidence or the dev answers cannot be dismissed"
    unknown = [i for i in d.counter_evidence_ids if i not in known_ids]
    if unknown:
        return f"cites unknown ids {unknown[:10]}"
    runtime = [i for i in d.counter_evidence_ids if i.startswith(("ev-", "dv-")) and i not in target.evidence_ids]
    if not runtime:
        return "cites no runtime evidence beyond the finding's own"
    return None
