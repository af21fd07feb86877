"""The SDK's public surface, its independence from the rest of MAC, the journal and the model client."""

from __future__ import annotations

import ast
import asyncio
import json
import subprocess
import sys
import threading

import pytest

import mac.sdk
from mac.sdk import ModelClient, Prediction, Problem, journal, remaining
from mac.testing.fake_openai import FakeOpenAI


def test_all_is_complete_and_sorted():
    public = {name for name in vars(mac.sdk) if not name.startswith("_")} - {"agent", "client", "journal", "timing",
                                                                             "types", "run"}
    assert mac.sdk.__all__ == sorted(mac.sdk.__all__)
    assert set(mac.sdk.__all__) == public


def test_sdk_imports_nothing_else_of_mac():
    code = ("import sys, mac.sdk, mac.sdk.run; sys.path.append(mac.sdk.run._COMPAT_DIR.as_posix());"
            "import base_agent, openai_helper;"
            "print(sorted(m for m in sys.modules if m.startswith('mac')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    modules = ast.literal_eval(out)
    assert all(m == "mac" or m.startswith("mac.sdk") for m in modules), modules
    assert "openai" not in out


def test_journal_keeps_latest_per_idx_in_first_seen_order_and_survives_odd_idx():
    journal.clear()
    try:
        first = Prediction(3, "a")
        Prediction(1, "b")
        again = Prediction(3, "c")
        Prediction([1, 2], "unhashable")
        Prediction(True, "bool is not 1")
        first.pred = "changed"  # the old object is no longer the latest for idx 3
        snap = journal.snapshot()
        assert [p.pred for p in snap] == ["c", "b", "unhashable", "bool is not 1"]
        assert snap[0] is again
    finally:
        journal.clear()


def test_journal_is_thread_safe_and_bounded():
    journal.clear()
    try:
        def make(offset):
            for i in range(2000):
                Prediction(i % 50, f"{offset}-{i}")

        threads = [threading.Thread(target=make, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(p.idx for p in journal.snapshot()) == list(range(50))
    finally:
        journal.clear()


def test_remaining_is_infinite_outside_a_run():
    assert remaining() == float("inf")


def test_problem_round_trip():
    p = Problem.from_dict({"idx": 2, "question": "q", "choices": ["A) x", "B) y"]})
    assert p.to_dict() == {"idx": 2, "question": "q", "choices": ["A) x", "B) y"], "extra": {}}


def test_model_client_talks_to_an_openai_compatible_server():
    async def main():
        async with FakeOpenAI(reply="hello", api_key="sk-1") as fake:
            client = ModelClient(api_key="sk-1", api_base=fake.url, model="m")
            texts = await asyncio.to_thread(client.complete, [{"role": "user", "content": "hi"}], n=3,
                                            max_tokens=5, timeout=30)
            text = await asyncio.to_thread(client.chat, [{"role": "user", "content": "hi"}], temperature=0.1)
            return texts, text, fake.received

    texts, text, received = asyncio.run(main())
    assert texts == ["hello"] * 3 and text == "hello"
    assert received[0].body["n"] == 3 and received[0].body["max_tokens"] == 5 and received[0].body["model"] == "m"
    assert received[1].body["temperature"] == 0.1


def test_model_client_surfaces_auth_errors():
    import openai

    async def main():
        async with FakeOpenAI(reply="x", api_key="sk-right") as fake:
            client = ModelClient(api_key="sk-wrong", api_base=fake.url, max_retries=0)
            with pytest.raises(openai.AuthenticationError):
                await asyncio.to_thread(client.chat, [{"role": "user", "content": "hi"}])

    asyncio.run(main())


def test_journal_file_gets_each_prediction_as_it_is_made(tmp_path):
    path = tmp_path / "journal.jsonl"
    journal.clear()
    journal.open_file(path)
    try:
        first = Prediction(3, "a")
        assert path.read_text() == '{"idx": 3, "pred": "a"}\n'  # on disk before the constructor returned
        again = Prediction(3, "b")
        first.pred = "stale"  # no longer the latest for idx 3: not journaled
        again.pred = "c"      # the latest changed: journaled
        Prediction(4, 42)     # not a string: written as such, graded as invalid by the controller
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert lines == [{"idx": 3, "pred": "a"}, {"idx": 3, "pred": "b"}, {"idx": 3, "pred": "c"},
                         {"idx": 4, "pred": None, "pred_type": "int"}]
    finally:
        journal.clear()
    Prediction(5, "after clear")
    assert "after clear" not in path.read_text()
    journal.clear()
