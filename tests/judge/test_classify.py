"""classify() reads what a sandbox reported about one test: untrusted bytes. Whatever they say, it returns an
outcome, and no text the program chose reaches the outcome's detail beyond a builtin type's name."""

from __future__ import annotations

import pytest

from mac.judge import JudgeLimits
from mac.judge.classify import classify
from mac.judge.session import RawRun

LIMITS = JudgeLimits()
CLEAN = {"exit": 0, "signal": None, "timed_out": False, "time": 0.01, "stdout_bytes": 2, "report_bytes": 14}


def outcome(stdout=b"7\n", report=b'{"done": true}', end=None, expected="7", call_based=False, kills=0):
    raw = RawRun(stdout=stdout, report=report, end={**CLEAN, **(end or {})}, memory_kills=kills)
    return classify(raw, expected, call_based=call_based, fn_name="f", limits=LIMITS)


def test_a_clean_run_is_compared():
    assert outcome().status == "passed"
    assert outcome(stdout=b"8\n").status == "wrong_answer"
    assert outcome(report=b'{"value": [1, 2]}', expected=[1, 2], call_based=True).status == "passed"


@pytest.mark.parametrize("end", [
    {"time": "soon", "timed_out": "yes", "signal": "9", "exit": [], "stdout_bytes": None, "report_bytes": "big"},
    {"time": -5, "exit": 10 ** 30, "signal": 10 ** 6},
    {"time": float("nan"), "exit": True, "timed_out": 1},
    {},
])
def test_malformed_end_frames_still_give_an_outcome(end):
    raw = RawRun(stdout=b"\xff\xfe", report=b"\x00{[", end=end, memory_kills=None)
    result = classify(raw, "7", call_based=False, fn_name=None, limits=LIMITS)
    assert result.status in ("wrong_answer", "runtime_error", "bad_format") and result.time_sec >= 0


@pytest.mark.parametrize("report, status, detail", [
    (b'{"error": "ZeroDivisionError"}', "runtime_error", "ZeroDivisionError"),
    (b'{"error": "PRIVATE-INPUT-1 2 3"}', "runtime_error", "an exception of a type the program defined"),
    (b'{"error": ["list"]}', "runtime_error", "an exception of a type the program defined"),
    (b'{"error": "MemoryError"}', "memory_limit", "MemoryError (limit 1024 MiB)"),
    (b'{"not_json": "set"}', "bad_format", "the result has no JSON form (set)"),
    (b'{"not_json": "LEAK 1 2 3"}', "bad_format",
     "the result has no JSON form (an object of a type the program defined)"),
    (b'{"missing": "LEAK"}', "bad_format", "no Solution().f (nor a function f)"),
    (b'{"unequal": "LEAK"}', "bad_format", "the program ended without a result"),
    (b'{"too_big": true}', "output_limit", "over 1048576 bytes of output"),
    (b'[1, 2]', "bad_format", "the program ended without a result"),
    (b"", "bad_format", "the program ended without a result"),
])
def test_reports_map_to_a_fixed_vocabulary(report, status, detail):
    result = outcome(report=report, call_based=True, expected=7)
    assert (result.status, result.detail) == (status, detail)


def test_how_a_test_ended_decides_before_its_report():
    assert outcome(end={"timed_out": True}).status == "time_limit"
    assert outcome(end={"stdout_bytes": LIMITS.output_bytes + 1}).status == "output_limit"
    assert outcome(kills=1, report=b'{"error": "ValueError"}').status == "memory_limit"
    killed = outcome(end={"signal": 9, "exit": None}, report=b"", kills=0)
    assert (killed.status, killed.detail) == ("runtime_error", "killed by signal SIGKILL")
    unknown = outcome(end={"signal": 9, "exit": None}, report=b"", kills=None)
    assert unknown.status == "memory_limit" and "most likely" in unknown.detail
    assert outcome(end={"exit": 3}, report=b"").detail == "exit status 3"
    assert outcome(end={"exit": 0}, report=b"").status == "passed"  # os._exit(0) after printing
