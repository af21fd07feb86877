"""The grading hook: a domain's GradingStrategy grades a batch with a context; the default compares answers."""

from __future__ import annotations

import asyncio

import pytest

from mac.domains import get_domain
from mac.domains.base import Domain, Grade, InstructionContext
from mac.domains.grader import CompareAnswers, Gradable, GradingContext, GradingStrategy
from mac.errors import DataError
from mac.evaluation.grading import ArtifactOutput, grade_output, predictions_content
from mac.records import Record, SimItem


class Lengths(GradingStrategy):
    """A strategy whose truth is not an answer: a prediction is right when its length equals `extra.n`.
    It records what it was handed, so the test can see batching and the context."""

    needs_answer = False
    echo_predictions = False

    def __init__(self) -> None:
        self.calls: list[tuple[list[Gradable], GradingContext]] = []

    async def grade(self, domain, items, ctx):
        self.calls.append((items, ctx))
        await asyncio.sleep(0)  # a real strategy awaits sandboxes
        return [Grade(idx=i.idx, correct=len(i.pred) == i.record.extra["n"], pred=i.pred, normalized=None,
                      explanation="length") for i in items]

    def describe(self):
        return {"case_timeout": 3.0}


class Broken(GradingStrategy):
    async def grade(self, domain, items, ctx):
        raise RuntimeError("grader bug")


class NamedDomain(Domain):
    """A test domain whose problems are answered by string ids, as MAC's LCB does."""

    name = "named-test"
    title = description = "test"

    def __init__(self, grading: GradingStrategy) -> None:
        self.grading = grading

    def problem_idx(self, position, record):
        return record.id

    def normalize(self, pred, problem):
        return pred.strip() or None

    def instruction(self, ctx: InstructionContext) -> str:
        return ""

    def sim_item(self, idx, record):
        return SimItem(question=record.question, answer="")


def records(n: int = 3) -> list[Record]:
    return [Record(id=f"p{i}", question=f"q{i}", extra={"n": i + 1}) for i in range(n)]


def output(*entries: dict) -> ArtifactOutput:
    return ArtifactOutput(entries=list(entries))


def test_a_strategy_grades_the_batch_with_the_context_and_string_ids_stay_strict() -> None:
    strategy = Lengths()
    domain = NamedDomain(strategy)
    ctx = GradingContext(parallel=2, split="test")
    out = output({"idx": "p0", "pred": "a"}, {"idx": "p1", "pred": "abc"}, {"idx": 2, "pred": "abc"},
                 {"idx": "p9", "pred": "x"}, {"idx": None, "idx_repr": "[1]", "pred": "x"})
    graded = asyncio.run(grade_output(domain, records(), out, ctx))
    [(items, seen)] = strategy.calls  # one batch, only what can be graded
    assert [i.idx for i in items] == ["p0", "p1"] and seen is ctx
    assert [g.correct for g in graded.grades] == [True, False, False] and graded.missing == ["p2"]
    assert all(g.pred is None for g in graded.grades)  # echo_predictions False: the text never comes back
    assert [i["explanation"] for i in graded.invalid] == [
        "idx 2 is not a string", "unknown idx 'p9': the problems asked are 'p0', 'p1', 'p2' (3 ids)",
        "idx [1] is not a string"]
    assert all(i["pred"] is None for i in graded.invalid)
    assert predictions_content(out, domain) == ""


def test_default_strategy_compares_answers_and_int_idx_stays_strict() -> None:
    aime = get_domain("aime")
    assert isinstance(aime.grading, CompareAnswers) and aime.grading.needs_answer
    recs = [Record(id="0", question="q0", answer="33"), Record(id="1", question="q1", answer="7")]
    out = output({"idx": 0, "pred": "\\boxed{33}"}, {"idx": "1", "pred": "7"}, {"idx": True, "pred": "7"})
    graded = asyncio.run(grade_output(aime, recs, out))
    assert [g.correct for g in graded.grades] == [True, False] and graded.missing == [1]
    assert graded.grades[0].pred == "\\boxed{33}"
    assert [i["explanation"] for i in graded.invalid] == ["idx '1' is not an integer", "idx True is not an integer"]
    assert '"pred": "\\\\boxed{33}"' in predictions_content(out, aime)


def test_a_grader_bug_makes_the_batch_wrong_with_a_reason_not_a_crash() -> None:
    graded = asyncio.run(grade_output(NamedDomain(Broken()), records(2), output({"idx": "p0", "pred": "a"})))
    assert graded.grades[0].explanation == "grader error (RuntimeError); counted as wrong"
    assert graded.grades[1].explanation == "missing prediction"


def test_answer_is_required_only_where_the_strategy_needs_it() -> None:
    rows = [(1, {"id": "a", "question": "q", "extra": {"n": 1}})]
    assert NamedDomain(Lengths()).validate_records(rows, "f.jsonl")[0].answer is None
    with pytest.raises(DataError, match="missing answer") as err:
        get_domain("aime").validate_records(rows, "f.jsonl")
    assert err.value.field == "answer"


def test_every_builtin_domain_names_a_known_sim_format_and_a_strategy() -> None:
    from mac.domains import domain_names
    from mac.gateway.sim_formats import format_for

    for name in domain_names():
        domain = get_domain(name)
        assert format_for(domain.answer_format).name == domain.answer_format
        assert isinstance(domain.grading, GradingStrategy)
