"""aime: grading against records, record validation, and what the sim knows about each record."""

from __future__ import annotations

import pytest
from domkit import aime_row, write_jsonl

from mac.domains import get_domain
from mac.errors import DataError
from mac.records import Record

AIME = get_domain("aime")


def record(answer: str = "033", **extra) -> Record:
    return Record.model_validate({"id": "1", "question": "Find $n$ such that $n+1=34$.", "answer": answer, **extra})


@pytest.mark.parametrize("pred,correct", [
    ("33", True), ("033", True), ("\\boxed{33}", True), ("The answer is 33", True), ("$33$", True),
    ("34", False), ("33 or 34", False), ("30+3", False), ("\\frac{66}{2}", False),
    ("__import__('os').system('touch /tmp/pwned')", False), ("x" * 5_000_000, False),
])
def test_grade_compares_normalised_integers(pred, correct):
    grade = AIME.grade(0, pred, record())
    assert grade.correct is correct
    assert grade.explanation in ("correct", "wrong answer", "unreadable answer")
    assert grade.pred is not None and len(grade.pred) <= 2000


@pytest.mark.parametrize("pred", [None, 33, 33.0, True, ["33"], {"pred": "33"}])
def test_grade_of_non_strings_is_wrong_not_an_error(pred):
    grade = AIME.grade(0, pred, record())
    assert not grade.correct and grade.normalized is None


def test_grade_explains_unreadable_and_wrong():
    assert AIME.grade(0, "33 or 34", record()).explanation == "unreadable answer"
    assert AIME.grade(0, "34", record()).explanation == "wrong answer"
    assert AIME.grade(0, "34", record()).normalized == "34"


def test_load_validates_answers(tmp_path):
    folder = tmp_path / "aime"
    write_jsonl(folder / "dev.jsonl", [aime_row(0), aime_row(1, answer="1000")])
    write_jsonl(folder / "test.jsonl", [aime_row(2)])
    with pytest.raises(DataError) as err:
        AIME.load("dev", folder)
    message = str(err.value)
    assert "dev.jsonl:2" in message and "'answer'" in message and "0 to 999" in message
    assert [r.answer for r in AIME.load("test", folder)] == ["33"]


def test_int_ids_and_answers_from_published_files_load(tmp_path):
    folder = tmp_path / "aime"
    write_jsonl(folder / "dev.jsonl", [{"id": 0, "question": "Q?", "answer": 7}])
    records = AIME.load("dev", folder)
    assert records[0].id == "0" and records[0].answer == "7"


def test_sim_item_difficulty_follows_problem_position():
    url = "https://artofproblemsolving.com/wiki/index.php/2022_AIME_I_Problems/Problem_{}"
    first = AIME.sim_item(0, record(url=url.format(1)))
    last = AIME.sim_item(0, record(url=url.format(15)))
    by_number = AIME.sim_item(0, record(problem_number=8))
    assert first.difficulty < by_number.difficulty < last.difficulty
    assert 0 <= first.difficulty and last.difficulty <= 1


def test_sim_item_without_position_uses_a_stable_hash_and_explicit_difficulty_wins():
    a, b = AIME.sim_item(0, record()), AIME.sim_item(5, record())
    assert a.difficulty == b.difficulty and 0.3 <= a.difficulty <= 0.9
    assert AIME.sim_item(0, record(difficulty=0.05)).difficulty == 0.05


def test_sim_item_knows_answer_question_and_plausible_distractors():
    rec = record()
    item = AIME.sim_item(3, rec)
    assert item.answer == "33" and item.answer_format == "integer"
    assert item.question == AIME.problem(3, rec).question == rec.question
    assert item.distractors and "33" not in item.distractors
    assert len(set(item.distractors)) == len(item.distractors)
    assert all(0 <= int(d) <= 999 for d in item.distractors)
    assert AIME.sim_item(0, record(answer="0")).distractors[0] == "1"


def test_problem_never_carries_the_answer():
    rec = record(solution="The answer is \\boxed{33}.", url="u")
    problem = AIME.problem(0, rec)
    assert "33" not in repr(problem.extra) and problem.choices is None
