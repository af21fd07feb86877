"""Predictions made before a deadline survive an artifact that holds the GIL until the sandbox kills it: the SDK
journals each one as it is made, and the controller reads that journal (as untrusted input) after the kill."""

from __future__ import annotations

import json
import os
import time

import pytest
from runkit import arith_records, run, write_artifact

from mac.evaluation.partial import read_journal

GIL_HOLDERS = {
    # a pure-Python loop that never lets another thread in (the SDK's own watchdog thread cannot run)
    "python-loop": "import sys; sys.setswitchinterval(1e6)\n            while True:\n                pass",
    # one C call that never releases the GIL (exponential backtracking)
    "c-call": "import re; re.match(r'(x+x+)+y', 'x' * 5000)",
}


@pytest.mark.parametrize("holder", sorted(GIL_HOLDERS))
def test_a_solve_holding_the_gil_keeps_its_partial_predictions(tmp_path, holder):
    records = arith_records()
    agent = f"""
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            Prediction(1, "{records[1].answer}")
            late = Prediction(2, "wrong")
            late.pred = "{records[2].answer}"   # changed after creation: the change is journaled too
            {GIL_HOLDERS[holder]}
    """
    started = time.monotonic()
    r = run(write_artifact(tmp_path / "a", agent), records=records, timeout=1).result
    assert time.monotonic() - started < 40
    assert r.success and r.partial and r.timed_out, r.error
    assert r.scores == [0, 1, 1, 0] and r.missing_predictions == [0, 3]
    assert "killed at the wall limit" in r.error and "Kept 2 predictions from the SDK's journal" in r.error


def _journal(tmp_path, lines: list[bytes | str]) -> os.PathLike:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(b"".join(line if isinstance(line, bytes) else line.encode() + b"\n" for line in lines))
    return path


def test_the_journal_is_validated_like_a_result_file(tmp_path):
    path = _journal(tmp_path, [
        json.dumps({"idx": 3, "pred": "a"}), json.dumps({"idx": 1, "pred": "b"}),
        json.dumps({"idx": 3, "pred": "c"}),                       # a later line for idx 3 replaces the first
        json.dumps({"idx": 4, "pred": None, "pred_type": "int"}),  # what the SDK writes for a non-str pred
        json.dumps({"idx": [1], "pred": "x"}), json.dumps([1, 2]), "not json", json.dumps({"idx": True, "pred": "t"}),
        json.dumps({"idx": None, "pred": "z"}),                    # no idx, and no word of why
        json.dumps({"idx": 5, "pred": {"nested": 1}}),
        json.dumps({"idx": None, "pred": None, "item_type": "dict"}),  # solve made no Prediction of it
        json.dumps({"idx": "lcb-7", "pred": "s"}),                  # a string id (MAC's LCB problems)
        b'{"idx": 6, "pred": "torn by the ki',                     # the kill tore the last line
    ])
    out = read_journal(path)
    assert out.partial and [e["idx"] for e in out.entries] == [3, 1, 4, 5, None, "lcb-7"]
    assert [e["pred"] for e in out.entries] == ["c", "b", None, None, None, "s"] and out.entries[2]["pred_type"] == "int"
    assert out.entries[4] == {"idx": None, "pred": None, "item_type": "dict"}
    assert "6 unreadable journal lines skipped" in out.error


def test_a_journal_that_is_a_link_or_empty_is_not_used_and_one_too_big_is_cut(tmp_path):
    secret = tmp_path / "secret.jsonl"
    secret.write_text(json.dumps({"idx": 0, "pred": "SECRET"}) + "\n")
    (tmp_path / "link.jsonl").symlink_to(secret)
    assert read_journal(tmp_path / "link.jsonl") is None
    assert read_journal(tmp_path / "missing.jsonl") is None
    assert read_journal(_journal(tmp_path, [])) is None
    first = json.dumps({"idx": 0, "pred": "x" * 5000})
    big = _journal(tmp_path, [first, json.dumps({"idx": 1, "pred": "y"})])
    assert read_journal(big, max_bytes=1000) is None  # only a torn first line within the cap
    assert [e["idx"] for e in read_journal(big, max_bytes=len(first) + 5).entries] == [0]  # the rest is cut off
