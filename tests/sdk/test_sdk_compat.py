"""MAC-compatible artifacts run unchanged: `base_agent`, `openai_helper`, the TASK_MODEL_* environment."""

from __future__ import annotations

import asyncio
import json

from mac.testing.fake_openai import FakeOpenAI

MAC_AIME_AGENT = """
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).parent.parent / "tools"))   # as MAC's own examples do
sys.path.insert(0, "/app/tools")

from base_agent import BaseAIMEAgent, Problem, Prediction
from openai_helper import OpenAIHelper


class ThinkingAgent(BaseAIMEAgent):
    def solve(self, problems: List[Problem], timeout_sec: int = 21600) -> List[Prediction]:
        self._start_timer(timeout_sec)
        helper = OpenAIHelper()
        out = []
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {pool.submit(helper.chat, [{"role": "user", "content": p.question}], temperature=0.6,
                                   max_tokens=None, timeout=3600.0, extra_body={"top_k": 20}): p for p in problems}
            for future in as_completed(futures):
                text = future.result()
                boxed = re.findall(r"\\\\boxed\\{([^}]*)\\}", text)
                out.append(Prediction(idx=futures[future].idx, pred=boxed[-1] if boxed else "0"))
        assert self._remaining_time() <= timeout_sec and not self._check_timeout()
        elapsed = time.time() - self.start_time
        out.sort(key=lambda p: p.idx)
        out.append(Prediction(idx=99, pred=f"{helper.call_count}|{helper.model}|{elapsed < 60}|{self.config}"))
        return out
"""

MAC_SCIENCE_AGENT = """
from base_agent import BaseScienceAgent, Problem, Prediction
from openai_helper import OpenAIHelper


class ScienceAgent(BaseScienceAgent):
    def solve(self, problems, timeout_sec=21600):
        helper = OpenAIHelper()
        preds = []
        for p in problems:
            stream = helper.client.chat.completions.create(
                model=helper.model, messages=[{"role": "user", "content": p.question + "\\n" + "\\n".join(p.choices)}],
                stream=True)
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            letter = text.strip()[-1]
            assert all(c[1:3] == ") " for c in p.choices), p.choices
            preds.append(Prediction(idx=p.idx, pred=letter))
        return preds
"""


def _env(fake: FakeOpenAI, key: str = "sk-test") -> dict[str, str]:
    return {"TASK_MODEL_API_BASE": fake.url, "TASK_MODEL_API_KEY": key, "TASK_MODEL_NAME": "task-model"}


def test_mac_aime_artifact_runs_unchanged(tmp_path, run_sdk_async):
    async def main():
        async with FakeOpenAI(reply="so the answer is \\boxed{33}", api_key="sk-test") as fake:
            run = await run_sdk_async(tmp_path / "aime", MAC_AIME_AGENT, env=_env(fake), timeout=60)
            return run, fake.received

    run, received = asyncio.run(main())
    assert run.payload["error"] is None, run.payload["traceback"]
    assert run.preds == {0: "33", 1: "33", 2: "33", 99: "3|task-model|True|{}"}
    assert len(received) == 3
    assert all(r.body["model"] == "task-model" and r.body["top_k"] == 20 for r in received)
    assert all(r.headers["authorization"] == "Bearer sk-test" for r in received)


def test_mac_science_artifact_sees_lettered_choices_and_streams(tmp_path, run_sdk_async):
    problems = [{"idx": i, "question": f"Q{i}?", "choices": ["A) one", "B) two", "C) three"], "extra": {}}
                for i in range(2)]

    async def main():
        async with FakeOpenAI(reply="Answer: C", api_key="sk-test") as fake:
            return await run_sdk_async(tmp_path / "sci", MAC_SCIENCE_AGENT, problems=problems, env=_env(fake))

    run = asyncio.run(main())
    assert run.payload["error"] is None, run.payload["traceback"]
    assert run.preds == {0: "C", 1: "C"}


def test_mac_helpers_load_and_save_problems(tmp_path, run_sdk_async):
    agent = """
    import json, os, tempfile
    from base_agent import BaseAIMEAgent, Prediction, load_problems, save_predictions

    class Agent(BaseAIMEAgent):
        def solve(self, problems, timeout_sec=21600):
            path = os.path.join(tempfile.mkdtemp(), "p.jsonl")
            with open(path, "w") as fh:
                fh.write(json.dumps({"idx": 5, "question": "q"}) + "\\n")
            loaded = self.load_problems(path) + load_problems(path)
            save_predictions([Prediction(idx=0, pred="a")], path)
            with open(path) as fh:
                saved = fh.read()
            return [Prediction(idx=p.idx, pred=f"{[q.idx for q in loaded]}|{saved.strip()}") for p in problems]
    """
    run = asyncio.run(run_sdk_async(tmp_path / "h", agent))
    assert run.preds[0] == '[5, 5]|{"idx": 0, "pred": "a"}'


def test_copied_mac_base_is_accepted_by_name(tmp_path, run_sdk_async):
    # A meta-agent copied MAC's base_agent.py into its workspace: its class is not a mac.sdk.BaseAgent.
    copied_base = """
    from dataclasses import dataclass

    @dataclass
    class Prediction:
        idx: int
        pred: str

    class BaseAIMEAgent:
        def __init__(self, api_key=None, api_base=None, model=None, **kwargs):
            self.model = model

        def solve(self, problems, timeout_sec=21600):
            raise NotImplementedError
    """
    agent = """
    from base_agent import BaseAIMEAgent, Prediction

    class Mine(BaseAIMEAgent):
        def solve(self, problems, timeout_sec=21600):
            return [Prediction(idx=p.idx, pred=str(self.model)) for p in problems]
    """
    run = asyncio.run(run_sdk_async(tmp_path / "c", agent, files={"base_agent.py": copied_base},
                                    env={"TASK_MODEL_NAME": "m"}))
    assert run.preds == {0: "m", 1: "m", 2: "m"}


def test_problems_file_round_trip(tmp_path, run_sdk_async):
    agent = """
    import json
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            return [Prediction(p.idx, json.dumps(p.to_dict(), sort_keys=True)) for p in problems]
    """
    problems = [{"idx": 0, "question": "q", "choices": ["A) x"], "extra": {"k": 1}}]
    run = asyncio.run(run_sdk_async(tmp_path / "r", agent, problems=problems))
    assert json.loads(run.preds[0]) == problems[0]
