"""The endpoint preflight (mac.preflight) against honest fake servers on loopback and a dead loopback port: a
dead endpoint, a wrong model name or a bad key fails in seconds with an error that says which and how to fix it."""

from __future__ import annotations

import socket
import time

import pytest

from mac.errors import PreflightError
from mac.metaagents import get_metaagent
from mac.preflight import Endpoint, check_endpoints
from mac.testing.fake_openai import FakeOpenAI
from mac.testing.fake_providers import FakeProviders
from mac.testing.threaded import in_thread

KEY = "sk-preflight-right-key-0123"


def dead_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def task_model(url: str, model: str, key: str | None = KEY) -> Endpoint:
    return Endpoint(role="task model", api="openai", base_url=url, model=model, key=key,
                    key_source="$OPENAI_API_KEY", fix="--task-model, --base-url")


def test_a_served_model_with_the_right_key_passes():
    with in_thread(FakeOpenAI(models=["good-model"], api_key=KEY)) as fake:
        [line] = check_endpoints([task_model(fake.url, "good-model")])
        assert "reachable, key accepted, model listed" in line
        assert fake.received == []  # the model list was enough: no completion was spent


def test_a_dead_endpoint_fails_fast_and_says_so():
    started = time.monotonic()
    url = f"http://127.0.0.1:{dead_port()}/v1"
    with pytest.raises(PreflightError, match="cannot be reached") as failed:
        check_endpoints([task_model(url, "m")])
    assert time.monotonic() - started < 10 and url in str(failed.value) and "--base-url" in str(failed.value)


def test_a_wrong_model_name_is_named_with_what_the_server_serves():
    with in_thread(FakeOpenAI(models=["good-model", "other-model"], api_key=KEY)) as fake:
        with pytest.raises(PreflightError) as failed:
            check_endpoints([task_model(fake.url, "gpt-typo")])
        # not listed, so one tiny completion asked; the server said the model does not exist
        assert [r.body["max_tokens"] for r in fake.received] == [1]
    message = str(failed.value)
    assert "does not serve model 'gpt-typo'" in message and "it lists: good-model, other-model" in message


def test_a_bad_or_missing_key_is_refused_without_echoing_it():
    with in_thread(FakeOpenAI(models=["good-model"], api_key=KEY)) as fake:
        with pytest.raises(PreflightError, match=r"refused the key in \$OPENAI_API_KEY \(HTTP 401") as bad:
            check_endpoints([task_model(fake.url, "good-model", key="sk-wrong-key-0123456789")])
        with pytest.raises(PreflightError, match="no key was sent: set \\$OPENAI_API_KEY"):
            check_endpoints([task_model(fake.url, "good-model", key=None)])
    assert "sk-wrong" not in str(bad.value)


def test_a_model_that_answers_without_being_listed_passes():
    """Servers that answer to aliases: the tiny completion settles it."""
    with in_thread(FakeOpenAI(reply="OK")) as fake:  # lists only "fake-model", answers any name
        [line] = check_endpoints([task_model(fake.url, "an-alias")])
        assert "model answers" in line and len(fake.received) == 1


def test_every_failing_endpoint_is_named_at_once():
    dead = f"http://127.0.0.1:{dead_port()}"
    with pytest.raises(PreflightError) as failed:
        check_endpoints([task_model(dead + "/v1", "m"),
                         Endpoint(role="meta-agent model", api="anthropic", base_url=dead, model="sonnet")])
    assert "task model endpoint" in str(failed.value) and "meta-agent model endpoint" in str(failed.value)


@pytest.mark.parametrize("name, key_var", [("claude-code", "ANTHROPIC_API_KEY"), ("gemini-cli", "GEMINI_API_KEY"),
                                           ("codex", "OPENAI_API_KEY"), ("mini-swe-agent", "MAC_META_API_KEY")])
def test_meta_agent_endpoints_are_checked_in_their_own_wire_format(name, key_var, monkeypatch):
    model = "openai:fake-meta" if name == "mini-swe-agent" else "fake-meta"
    with in_thread(FakeProviders([], api_key=KEY, models=("fake-meta",))) as fake:
        base = fake.url + ("/v1" if name in ("codex", "mini-swe-agent") else "")
        monkeypatch.setenv(key_var, KEY)
        endpoint = get_metaagent(name, model=model, base_url=base).model_endpoint()
        assert endpoint.model == "fake-meta" and endpoint.key == KEY
        [line] = check_endpoints([endpoint])
        assert "reachable, key accepted" in line
        monkeypatch.setenv(key_var, "sk-not-the-key-987654321")
        wrong = get_metaagent(name, model=model, base_url=base).model_endpoint()
        with pytest.raises(PreflightError, match=f"refused the key in \\${key_var}"):
            check_endpoints([wrong])
    with pytest.raises(PreflightError, match="cannot be reached"):
        check_endpoints([get_metaagent(name, model=model, base_url=f"http://127.0.0.1:{dead_port()}").model_endpoint()])


def test_built_in_meta_agents_and_the_sim_have_nothing_to_check():
    assert get_metaagent("reference").model_endpoint() is None
    assert check_endpoints([None]) == []
