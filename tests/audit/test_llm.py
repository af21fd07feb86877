"""The LLM auditor's call and parsing, against a real fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from mac.audit import AuditorConfig
from mac.audit.llm import ask_auditor, parse_reply
from mac.audit.policy import rule_findings
from mac.audit.models import Finding
from mac.testing.fake_openai import FakeOpenAI, FakeReply

VALID = json.dumps({"verdict": "SUSPICIOUS", "findings": [
    {"type": "brute_force", "severity": "medium", "summary": "many probes", "evidence_ids": ["dv-1"]}]})
RULES = rule_findings([Finding(id="sf-1", rule="fs.outside", severity="medium", type="ground_truth_access",
                               path="agent.py", line=1, message="x")], [])
KNOWN = {"sf-1", "dv-1"}
MESSAGES = [{"role": "system", "content": "audit"}, {"role": "user", "content": "material"}]


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize("reply", [
    VALID, f"```json\n{VALID}\n```", f"Here is my verdict:\n{VALID}\nThanks.",
])
def test_parse_reply_tolerates_fences_and_chatter(reply):
    out = parse_reply(reply)
    assert out.verdict == "SUSPICIOUS" and out.findings[0].evidence_ids == ["dv-1"]


@pytest.mark.parametrize("reply,problem", [
    ("no json here", "no JSON object"), ("{'verdict': 'CLEAN'}", "invalid JSON"),
    ('{"verdict": "FINE"}', "schema: verdict"),
    ('{"verdict": "CLEAN", "findings": [{"type": "x", "severity": "high", "summary": "s"}]}', "schema: findings.0.type"),
    ('{"verdict": "CLEAN", "findings": [{"type": "other", "severity": "huge", "summary": "s"}]}', "severity"),
])
def test_parse_reply_rejects_malformed(reply, problem):
    with pytest.raises(ValueError, match=problem):
        parse_reply(reply)


def test_malformed_reply_is_retried_once_with_a_correction(monkeypatch):
    monkeypatch.setenv("MAC_AUDITOR_API_KEY", "sk-auditor-123")

    async def go():
        async with FakeOpenAI(api_key="sk-auditor-123") as fake:
            fake.push("I think it is fine.", VALID)
            config = AuditorConfig(model="judge-1", base_url=fake.url)
            return await ask_auditor(config, MESSAGES, known_ids=KNOWN, rules=RULES), fake.received

    review, received = run(go())
    assert review.ok and review.attempts == 2 and review.verdict == "SUSPICIOUS"
    assert [f.id for f in review.findings] == ["lf-1"] and review.findings[0].level == "SUSPICIOUS"
    first, second = (r.body for r in received)
    assert first["model"] == "judge-1" and first["response_format"] == {"type": "json_object"}
    assert second["messages"][-2]["content"] == "I think it is fine."
    assert "not usable" in second["messages"][-1]["content"]
    assert "sk-auditor-123" not in review.model_dump_json()


def test_two_malformed_replies_give_up(monkeypatch):
    async def go():
        async with FakeOpenAI() as fake:
            fake.push("nope", '{"verdict": "MAYBE"}')
            return await ask_auditor(AuditorConfig(model="j", base_url=fake.url), MESSAGES, known_ids=KNOWN,
                                     rules=RULES)

    review = run(go())
    assert not review.ok and review.attempts == 2 and "schema: verdict" in review.error


def test_http_errors_are_retried_then_reported():
    async def go():
        async with FakeOpenAI() as fake:
            fake.push(FakeReply(status=500, error="overloaded"), VALID)
            ok = await ask_auditor(AuditorConfig(model="j", base_url=fake.url), MESSAGES, known_ids=KNOWN, rules=RULES)
            fake.push(FakeReply(status=401, error="bad key"), FakeReply(status=401, error="bad key"))
            bad = await ask_auditor(AuditorConfig(model="j", base_url=fake.url), MESSAGES, known_ids=KNOWN,
                                    rules=RULES)
            return ok, bad

    ok, bad = run(go())
    assert ok.ok and ok.attempts == 2
    assert not bad.ok and "HTTP 401" in bad.error


def test_unreachable_endpoint_fails_cleanly():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = AuditorConfig(model="j", base_url=f"http://127.0.0.1:{port}/v1", timeout_sec=5)
    review = run(ask_auditor(config, MESSAGES, known_ids=KNOWN, rules=RULES))
    assert not review.ok and review.attempts == 2 and review.error


def test_auditor_config_parse(monkeypatch):
    config = AuditorConfig.parse("openai:gpt-judge", "http://127.0.0.1:1/v1")
    assert (config.model, config.base_url) == ("gpt-judge", "http://127.0.0.1:1/v1")
    from mac.errors import ConfigError

    with pytest.raises(ConfigError, match="openai:MODEL_NAME"):
        AuditorConfig.parse("anthropic:claude")
    monkeypatch.delenv("MAC_AUDITOR_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="MAC_AUDITOR_API_KEY"):  # the public endpoint without a key: refused now
        AuditorConfig.parse("openai:gpt-judge")
    monkeypatch.setenv("MAC_AUDITOR_API_KEY", "sk-judge")
    assert AuditorConfig.parse("openai:gpt-judge").base_url == "https://api.openai.com/v1"
