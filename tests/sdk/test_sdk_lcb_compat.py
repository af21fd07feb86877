"""MAC's LCB shims: `BaseLCBAgent`, string idx, MAC's problem fields as attributes, MAC's LCB input rows."""

from __future__ import annotations

import copy
import json
import pickle
import sys
from pathlib import Path

import pytest

from mac.sdk import Prediction, Problem
from mac.sdk.run import load_agent_class

COMPAT = Path(__file__).resolve().parents[2] / "src" / "mac" / "sdk" / "compat"

MAC_ROW = {"idx": "abc344_d", "question_title": "String Bags", "question_content": "Find the minimum cost.",
           "starter_code": "", "platform": "atcoder", "difficulty": "hard", "contest_date": "2024-03-09T00:00:00",
           "question_id": "abc344_d", "contest_id": "abc344", "fn_name": None}


@pytest.fixture
def base_agent():
    sys.path.insert(0, str(COMPAT))
    try:
        import base_agent

        yield base_agent
    finally:
        sys.path.remove(str(COMPAT))
        sys.modules.pop("base_agent", None)


def test_problem_fields_are_attributes_and_survive_copies():
    p = Problem(idx="3211", question="q", extra={"fn_name": "maxSum", "starter_code": "class Solution: ..."})
    assert p.fn_name == "maxSum" and p.starter_code.startswith("class Solution")
    for other in (copy.copy(p), copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert other.fn_name == "maxSum" and other.idx == "3211"
    assert not hasattr(p, "private_tests")
    with pytest.raises(AttributeError, match="no attribute 'answer'"):
        p.answer  # noqa: B018
    assert Prediction(idx="3211", pred="print(1)").to_dict() == {"idx": "3211", "pred": "print(1)"}


def test_mac_lcb_rows_load_with_string_idx(tmp_path, base_agent):
    rows = [MAC_ROW, {**MAC_ROW, "idx": "3000", "question_id": "3000", "fn_name": "f", "platform": "leetcode"}]
    path = tmp_path / "lcb_eval.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    problems = base_agent.BaseLCBAgent.load_problems(path)
    assert [p.idx for p in problems] == ["abc344_d", "3000"]  # a digit string stays a string
    assert problems[0].question == problems[0].question_content == "Find the minimum cost."
    assert problems[0].contest_id == "abc344" and problems[1].fn_name == "f" and problems[1].platform == "leetcode"
    aime = base_agent.load_problems(_write(tmp_path / "aime.json", [{"idx": "7", "question": "x"}]))
    assert aime[0].idx == 7  # short-answer rows keep MAC's int idx


def test_a_mac_lcb_agent_class_is_found(tmp_path, base_agent):
    agent = tmp_path / "agent.py"
    agent.write_text("from base_agent import BaseLCBAgent, Prediction\n\nclass Mine(BaseLCBAgent):\n"
                     "    def solve(self, problems, timeout_sec=21600):\n        return []\n")
    try:
        assert load_agent_class(agent).__name__ == "Mine"
    finally:
        sys.modules.pop("agent", None)
        sys.path.remove(str(tmp_path))


def _write(path: Path, rows: list) -> Path:
    path.write_text(json.dumps(rows))
    return path
