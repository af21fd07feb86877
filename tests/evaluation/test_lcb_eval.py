"""`lcb` evaluations end to end: artifacts run in the sandbox through the gateway (sim), programs are judged in
their own sandboxes, results have MAC's LCB fields, and a bad prediction is 0 for its problem with a reason."""

from __future__ import annotations

import asyncio
import json

import pytest
from runkit import run_async, write_artifact
from test_eval_cli import SANDBOX_FLAGS, mac

from mac.domains.base import get_domain

MAC_STYLE_AGENT = '''
#!/usr/bin/env python3
"""Written the way the published MAC LCB baseline is."""
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import List

sys.path.insert(0, str(Path(__file__).parent.parent / "tools"))
sys.path.insert(0, "/app/tools")

from base_agent import BaseLCBAgent, Prediction, Problem
from openai_helper import OpenAIHelper

WITH_STARTER = "You will use the following starter code to write the solution to the problem and enclose your code within delimiters."
WITHOUT_STARTER = ("Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test "
                   "on the sample inputs). Enclose your code within delimiters as follows.")


def build_prompt(problem: Problem) -> str:
    prompt = "You will be given a question (problem specification) and will generate a correct Python program.\\n\\n"
    prompt += "Question: " + problem.question_content + "\\n\\n"
    if problem.starter_code:
        prompt += WITH_STARTER + "\\n```python\\n" + problem.starter_code + "\\n```\\n"
    else:
        prompt += WITHOUT_STARTER + "\\n```python\\n# YOUR CODE HERE\\n```\\n"
    return prompt


def extract_code(text: str) -> str:
    lines = text.split("\\n")
    fences = [i for i, line in enumerate(lines) if "```" in line]
    if len(fences) >= 2:
        return "\\n".join(lines[fences[-2] + 1:fences[-1]]).strip()
    return ""


class BaselineAgent(BaseLCBAgent):
    def solve(self, problems: List[Problem], timeout_sec: int = 21600) -> List[Prediction]:
        self._start_timer(timeout_sec)
        helper = OpenAIHelper(api_key=self.api_key, base_url=self.api_base, model=self.model)
        predictions = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {pool.submit(helper.chat, [{"role": "user", "content": build_prompt(p)}], temperature=0.0,
                                   max_completion_tokens=32768): p for p in problems}
            for future in as_completed(futures):
                problem = futures[future]
                code = extract_code(future.result()) or "# CODE EXTRACTION FAILED"
                predictions.append(Prediction(idx=problem.idx, pred=code))
        assert all(isinstance(p.idx, str) for p in problems) and not self._check_timeout()
        assert problem.contest_date and problem.platform in ("leetcode", "atcoder", "codeforces")
        return predictions
'''

BAD_AGENT = '''
from mac.sdk import BaseAgent, Prediction

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        by_kind = {}
        for p in problems:
            by_kind.setdefault(bool(p.fn_name), []).append(p)
        call, stdin = by_kind[True], by_kind[False]
        return [
            Prediction(call[0].idx, 42),                                      # not a string
            Prediction(call[1].idx, "class Solution:\\n    def f(self:\\n"),  # syntax error
            Prediction(call[2].idx, "print('no Solution class here')\\n"),    # no Solution
            Prediction(stdin[0].idx, ""),                                     # empty program
            Prediction(stdin[1].idx, "raise ValueError(42)\\n"),              # crashes
            Prediction(0, "print(1)"),                                        # a position, not the problem's id
        ]
'''


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """A private, empty MAC_DATA: lcb falls back to its built-in fixtures (subprocesses inherit it)."""
    home = tmp_path / "mac-data"
    monkeypatch.setenv("MAC_DATA", str(home))
    return home


@pytest.fixture
def dev(data_home):
    return get_domain("lcb").load("dev")


def run(artifact, records, timeout: float = 240):
    return asyncio.run(run_async(artifact, records=records, domain="lcb", timeout=timeout)).result


@pytest.mark.slow
def test_strong_baseline_beats_naive_and_results_have_macs_lcb_fields(dev):
    lcb = get_domain("lcb")
    naive, strong = run(lcb.baseline("naive"), dev), run(lcb.baseline("strong"), dev)
    for result in (naive, strong):
        assert result.success and result.error is None and result.simulated, result.error
        assert result.covered == result.total == len(dev) and result.coverage == 100.0
        assert result.case_timeout == 10 and result.predictions_content == ""
        assert [d["idx"] for d in result.detailed_results] == [r.id for r in dev]
        assert all(d["pred"] is None and d["tests"] for d in result.detailed_results)  # no code echoed back
    assert strong.accuracy > naive.accuracy, (naive.accuracy, strong.accuracy)
    assert strong.usage.requests > naive.usage.requests


@pytest.mark.slow
def test_a_mac_style_lcb_artifact_runs_unchanged(tmp_path, dev):
    result = run(write_artifact(tmp_path / "mac", MAC_STYLE_AGENT), dev)
    assert result.success and result.error is None, (result.error, result.artifact_stderr)
    assert result.covered == len(dev) and result.correct > 0
    assert not result.invalid_predictions


def test_bad_predictions_score_zero_with_a_clear_reason(tmp_path, dev):
    result = run(write_artifact(tmp_path / "bad", BAD_AGENT), dev, timeout=60)
    assert result.success and result.correct == 0
    why = {d["idx"]: d["explanation"] for d in result.detailed_results}
    call = [r.id for r in dev if r.extra["fn_name"]]
    stdin = [r.id for r in dev if not r.extra["fn_name"]]
    assert why[call[0]].startswith("prediction is int, not str")
    assert "bad format" in why[call[1]] and "SyntaxError" in why[call[1]] and "does not compile" in why[call[1]]
    assert "bad format" in why[call[2]] and "Solution" in why[call[2]]
    assert "bad format" in why[stdin[0]] and "empty" in why[stdin[0]]
    assert "runtime error" in why[stdin[1]] and "ValueError" in why[stdin[1]]
    assert [i["explanation"] for i in result.invalid_predictions] == ["idx 0 is not a string"]
    assert result.covered == 5 and len(result.missing_predictions) == len(dev) - 5
    assert all(isinstance(m, str) for m in result.missing_predictions)


@pytest.mark.slow
def test_mac_eval_cli_on_lcb_prints_json_with_the_lcb_fields(tmp_path, data_home):
    proc = mac("eval", "--domain", "lcb", "--split", "test", "--artifact", str(get_domain("lcb").baseline("naive")),
               "--task-model", "sim", "--first-k", "4", "--json", *SANDBOX_FLAGS, timeout=240)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["success"] and out["total"] == 4 and out["case_timeout"] == 10 and out["covered"] == 4
    assert out["simulated"] is True and out["predictions_content"] == ""
