"""The judge's records: what goes in (tests, limits) and what comes out (a status per test, a verdict)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class TestCase(BaseModel):
    """One test of a problem. `output` never leaves the controller: only `input` is sent into the sandbox."""

    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid")

    input: str
    """stdin text, or (call-based) LiveCodeBench's "input": one JSON value per line, the method's arguments."""
    output: str
    """The expected stdout, or (call-based) the JSON of the expected return value."""


class JudgeLimits(BaseModel):
    """Limits of one problem's judging. Time, memory and output are per test."""

    model_config = ConfigDict(extra="forbid")

    case_timeout_sec: float = Field(10.0, gt=0)
    """Wall clock per test (MAC's fixed case_timeout); the process and everything it started die at it."""
    memory_mb: int = Field(1024, ge=64)
    """Memory of one test's processes together (cgroup where writable, else RLIMIT_AS)."""
    output_bytes: int = Field(1 << 20, ge=1024)
    """stdout (or a call-based result) kept per test; more is the verdict "output_limit"."""
    pids: int = Field(64, ge=4)
    """Processes and threads one test may have at once."""
    problem_timeout_sec: float | None = Field(None, gt=0)
    """Optional cap over all tests of one problem; tests not reached by then are `not_run`."""
    tmp_mb: int = Field(64, ge=1)
    """Size of the private /tmp (and the largest file a test may write, stdout included)."""
    cpus: float = Field(1.0, gt=0)
    """CPU share of one problem's sandbox, in cores (cgroup cpu quota where writable)."""


class TestStatus(StrEnum):
    __test__ = False

    passed = "passed"
    wrong_answer = "wrong_answer"
    runtime_error = "runtime_error"
    time_limit = "time_limit"
    memory_limit = "memory_limit"
    output_limit = "output_limit"
    bad_format = "bad_format"
    """The program is not of the form the problem needs: it does not compile, has no `Solution.<fn_name>`, or
    returns something with no JSON form."""
    not_run = "not_run"


class TestOutcome(BaseModel):
    __test__ = False

    status: TestStatus
    time_sec: float = 0.0
    detail: str = ""
    """Short and built by the controller from a fixed vocabulary (e.g. "line 3 differs", "ZeroDivisionError"):
    never an expected output, and no text of the program's own beyond a builtin exception's name."""


class ProblemVerdict(BaseModel):
    passed: bool
    """Every test passed (pass@1). A problem without tests does not pass."""
    outcomes: list[TestOutcome]
    """In test order; tests after the first failure are `not_run` when judging stops there."""
    explanation: str
    """One line for Grade.explanation."""
