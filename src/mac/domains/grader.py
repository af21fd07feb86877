"""How a domain grades: one hook, `GradingStrategy`, called by the dev evaluations and the verifier alike.

    class MyDomain(Domain):
        grading = CompareAnswers()        # the default: normalise-and-compare short answers (nothing to write)

    class LCB(Domain):
        grading = RunTests()              # code: run each candidate in sandbox X, compare outputs in the controller

A strategy grades a batch (so one that runs code can spread it over cores) and is handed a `GradingContext`: the
sandbox backend candidate code may run in (role "exec"), the domain's limits, how much to run at once, and the
evidence log. Whatever it does, grading happens on the trusted side: expected outputs and answers never enter a
sandbox, predictions are plain strings, and a strategy returns one `Grade` per item and never raises on any
prediction (a grader bug becomes a wrong answer with an explanation, see `mac.evaluation.grading`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

from mac.records import Record

if TYPE_CHECKING:
    from mac.evidence import EvidenceLog
    from mac.sandbox.base import SandboxBackend


class Grade(BaseModel):
    """The grade of one prediction, as data: reports and the auditor read the explanation."""

    idx: int | str
    correct: bool
    pred: str | None
    """The raw prediction (None when missing or not a string, and for code, whose text is never echoed)."""
    normalized: str | None
    """What the grader read the prediction as (None: unreadable)."""
    explanation: str = ""
    tests: list[dict[str, Any]] | None = None
    """Code domains: each test's status, time and a short detail (never an expected output), in test order."""


class Domain(Protocol):
    """What a strategy may ask of the domain it grades for (mac.domains.base.Domain has all of it)."""

    @property
    def name(self) -> str: ...

    def grade(self, idx: int | str, pred: Any, record: Record) -> Grade: ...


@dataclass(frozen=True)
class GradingContext:
    """What a grading strategy may use besides the predictions and the records."""

    backend: SandboxBackend | None = None
    """Where candidate code runs (sandbox role "exec"); None where nothing may run (short answers need none)."""
    limits: BaseModel | None = None
    """The domain's own limits model (for code: `mac.judge.JudgeLimits`); None: the domain's defaults."""
    parallel: int | None = None
    """How many items to grade at once (None: the strategy's choice, e.g. the number of cores)."""
    evidence: EvidenceLog | None = None
    split: str = "dev"


@dataclass(frozen=True)
class Gradable:
    """One prediction to grade: the problem's idx as the artifact saw it, the prediction text, its record."""

    idx: int | str
    pred: str
    record: Record


class GradingStrategy(ABC):
    """A domain's way of turning predictions into grades. Subclass for a new kind of ground truth."""

    needs_answer: ClassVar[bool] = True
    """Records must carry `answer` (False where the truth is tests, as for code)."""
    echo_predictions: ClassVar[bool] = True
    """Results may repeat the prediction text (False for code: MAC never returns a prediction's code)."""

    @abstractmethod
    async def grade(self, domain: Domain, items: list[Gradable], ctx: GradingContext) -> list[Grade]:
        """One Grade per item, in order. Must not raise because of a prediction's content."""

    def describe(self) -> dict[str, Any]:
        """Fields of every evaluation result that this grading fixes (EvalResult field names, e.g. `case_timeout`
        for code); the evaluation API's /info shows them too."""
        return {}


class CompareAnswers(GradingStrategy):
    """Short answers: `Domain.grade` normalises the prediction and the answer and compares them, in-process."""

    async def grade(self, domain: Domain, items: list[Gradable], ctx: GradingContext) -> list[Grade]:
        return [_compare(domain, item) for item in items]


def _compare(domain: Domain, item: Gradable) -> Grade:
    try:
        return domain.grade(item.idx, item.pred, item.record)
    except Exception as exc:  # noqa: BLE001 - a grader bug must not crash the evaluation
        return Grade(idx=item.idx, correct=False, pred=item.pred, normalized=None,
                     explanation=f"grader error ({type(exc).__name__}); counted as wrong")
