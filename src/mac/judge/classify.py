"""Turn what the sandbox reported for one test into a TestOutcome, comparing with the expected output here.

The report and the output are untrusted bytes: every field is checked, and no text the program chose reaches
an outcome's `detail` except the name of a builtin exception or type (a fixed vocabulary), so detailed results
cannot become a channel for, e.g., private test inputs the program read.
"""

from __future__ import annotations

import builtins
import math
import signal
from typing import Any

from mac.judge.compare import compare_stdout, compare_value, load_json
from mac.judge.models import JudgeLimits, TestOutcome, TestStatus
from mac.judge.session import REPORT_SLACK, DriverFailed, RawRun

KNOWN_TYPES = frozenset(name for name, value in vars(builtins).items() if isinstance(value, type)) | {
    "Decimal", "Fraction", "ndarray", "generator", "function", "method", "NoneType", "deque", "Counter",
    "defaultdict", "OrderedDict", "SortedList"}
UNEQUAL = {"tuple": "the result holds a tuple below the top level, which never equals a JSON list",
           "key": "the result holds a dict key that is not a string, which never equals a JSON key"}


def _known(name: Any, what: str) -> str:
    """A type name the program reported, if it is one we know; else a fixed phrase."""
    if isinstance(name, str) and name in KNOWN_TYPES:
        return name
    return f"an {what} of a type the program defined"


def _exception(name: Any) -> str:
    if isinstance(name, str) and isinstance(getattr(builtins, name, None), type) \
            and issubclass(getattr(builtins, name), BaseException):
        return name
    return _known(None, "exception")


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def classify(raw: RawRun, expected: str | Any, *, call_based: bool, fn_name: str | None,
             limits: JudgeLimits) -> TestOutcome:
    """`expected`: the expected stdout text, or (call-based) the decoded expected value."""
    end = raw.end
    raw_time = end.get("time")
    time_sec = float(raw_time) if isinstance(raw_time, (int, float)) else 0.0
    time_sec = time_sec if math.isfinite(time_sec) and time_sec > 0 else 0.0
    outcome = _limits(raw, end, call_based, limits)
    if outcome is None:
        report = _report(raw.report)
        outcome = _reported(report, end, raw.memory_kills, call_based, fn_name, limits)
        if outcome is None:
            outcome = _compare(raw, report, expected, call_based)
    return outcome.model_copy(update={"time_sec": round(float(time_sec), 4)})


def _limits(raw: RawRun, end: dict, call_based: bool, limits: JudgeLimits) -> TestOutcome | None:
    stdout_bytes, report_bytes = _int(end.get("stdout_bytes")) or 0, _int(end.get("report_bytes")) or 0
    too_big = (not call_based and stdout_bytes > limits.output_bytes) or \
        report_bytes > limits.output_bytes + REPORT_SLACK or raw.report.startswith(b'{"too_big"')
    if too_big:
        return TestOutcome(status=TestStatus.output_limit, detail=f"over {limits.output_bytes} bytes of output")
    if end.get("timed_out") is True:
        return TestOutcome(status=TestStatus.time_limit, detail=f"over the {limits.case_timeout_sec:g} s limit")
    return None


def _report(data: bytes) -> dict:
    try:
        value = load_json(data) if data else {}
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _reported(report: dict, end: dict, memory_kills: int | None, call_based: bool, fn_name: str | None,
              limits: JudgeLimits) -> TestOutcome | None:
    """Outcomes decided by the report or the exit status alone (None: compare the output)."""
    if memory_kills:  # the kernel killed a process of this test for memory: whatever else happened, that is why
        return TestOutcome(status=TestStatus.memory_limit, detail=f"over the {limits.memory_mb} MiB memory limit")
    if "error" in report:
        if report["error"] == "MemoryError":
            return TestOutcome(status=TestStatus.memory_limit, detail=f"MemoryError (limit {limits.memory_mb} MiB)")
        return TestOutcome(status=TestStatus.runtime_error, detail=_exception(report["error"]))
    if report.get("input_error") is True:
        return TestOutcome(status=TestStatus.runtime_error, detail="the test input is not one JSON value per line")
    if call_based and "missing" in report:
        return TestOutcome(status=TestStatus.bad_format, detail=f"no Solution().{fn_name} (nor a function {fn_name})")
    if call_based and "not_json" in report:
        return TestOutcome(status=TestStatus.bad_format,
                           detail=f"the result has no JSON form ({_known(report['not_json'], 'object')})")
    if call_based and report.get("unequal") in UNEQUAL:
        return TestOutcome(status=TestStatus.wrong_answer, detail=UNEQUAL[report["unequal"]])
    sig = _int(end.get("signal"))
    if sig is not None:
        if sig == signal.SIGKILL and memory_kills is None:  # no cgroup to ask: most likely the memory limit
            return TestOutcome(status=TestStatus.memory_limit,
                               detail=f"killed by SIGKILL, most likely at the {limits.memory_mb} MiB memory limit")
        return TestOutcome(status=TestStatus.runtime_error, detail=f"killed by signal {_signal_name(sig)}")
    code = _int(end.get("exit"))
    finished = report.get("done") is True or (not call_based and code == 0)
    if not finished and "value" not in report:
        if code is not None and code != 0:
            return TestOutcome(status=TestStatus.runtime_error, detail=f"exit status {code}")
        return TestOutcome(status=TestStatus.bad_format, detail="the program ended without a result")
    return None


def _compare(raw: RawRun, report: dict, expected: Any, call_based: bool) -> TestOutcome:
    if call_based:
        if "value" not in report:
            return TestOutcome(status=TestStatus.bad_format, detail="the program ended without a result")
        if compare_value(report["value"], expected):
            return TestOutcome(status=TestStatus.passed)
        return TestOutcome(status=TestStatus.wrong_answer, detail="the returned value differs")
    same, detail = compare_stdout(raw.stdout.decode("utf-8", "replace"), expected)
    return TestOutcome(status=TestStatus.passed if same else TestStatus.wrong_answer, detail=detail)


def from_failure(failure: DriverFailed) -> TestOutcome:
    """The sandbox died or stopped answering during a test."""
    result = failure.result
    if result is not None and result.killed_by == "memory":
        return TestOutcome(status=TestStatus.memory_limit, detail="the sandbox ran out of memory")
    if failure.timed_out or (result is not None and result.killed_by == "wall"):
        return TestOutcome(status=TestStatus.time_limit, detail="the test did not end (nor clean up) in time")
    return TestOutcome(status=TestStatus.runtime_error, detail="the sandbox ended during this test")
