"""science: letter grading against each problem's own choices, record validation, sim knowledge."""

from __future__ import annotations

import pytest
from domkit import science_row, write_jsonl

from mac.domains import get_domain
from mac.domains.base import normalise_row
from mac.errors import DataError
from mac.records import Record

SCIENCE = get_domain("science")


def record(n_choices: int = 4, answer: str = "C", **extra) -> Record:
    return Record.model_validate(normalise_row(science_row(1, n_choices, answer, **extra)))


@pytest.mark.parametrize("pred,correct", [
    ("C", True), ("(C)", True), ("C)", True), ("Answer: C", True), ("The answer is C", True), ("c", True),
    ("B", False), ("E", False), ("C and D", False), ("Answer: C or D", False), ("I think C", False),
    ("C) option 2 of 1", True), ("C) option 3 of 1", False),
])
def test_grade_four_choices(pred, correct):
    assert SCIENCE.grade(0, pred, record()).correct is correct


def test_letters_out_of_the_problems_range_are_unreadable():
    grade = SCIENCE.grade(0, "E", record(n_choices=4, answer="C"))
    assert grade.normalized is None and grade.explanation == "unreadable answer"
    assert SCIENCE.grade(0, "E", record(n_choices=5, answer="E")).correct
    assert SCIENCE.grade(0, "Z", record(n_choices=26, answer="Z")).correct
    assert SCIENCE.grade(0, "Z", record(n_choices=25, answer="A")).normalized is None


@pytest.mark.parametrize("pred", [None, 3, ["C"], b"C"])
def test_non_strings_are_wrong(pred):
    assert not SCIENCE.grade(0, pred, record()).correct


@pytest.mark.parametrize("row,field,words", [
    (science_row(0, answer="E"), "answer", "A-D"),
    (science_row(0, answer="CD"), "answer", "A-D"),
    ({**science_row(0), "choices": ["A) one"]}, "choices", "2 to 26"),
    ({**science_row(0), "choices": ["A) one", "C) two"]}, "choices", "B) text"),
    ({**science_row(0), "choices": ["one", "two"]}, "choices", "A) text"),
    ({k: v for k, v in science_row(0).items() if k != "choices"}, "choices", "2 to 26"),
])
def test_load_rejects_bad_records_naming_file_line_and_field(tmp_path, row, field, words):
    folder = tmp_path / "science"
    write_jsonl(folder / "dev.jsonl", [science_row(0), row])
    with pytest.raises(DataError) as err:
        SCIENCE.load("dev", folder)
    assert "dev.jsonl:2" in str(err.value) and f"field {field!r}" in str(err.value) and words in str(err.value)
    assert err.value.line == 2 and err.value.field == field


def test_default_sources_set_sim_difficulty_bands(tmp_path):
    folder = tmp_path / "science"
    write_jsonl(folder / "dev.jsonl", [science_row(i, 5) for i in range(20)])
    write_jsonl(folder / "test.jsonl", [science_row(100 + i) for i in range(20)] + [science_row(200, source="hle")])
    dev = [SCIENCE.sim_item(i, r).difficulty for i, r in enumerate(SCIENCE.load("dev", folder))]
    test_records = SCIENCE.load("test", folder)
    test = [SCIENCE.sim_item(i, r).difficulty for i, r in enumerate(test_records[:-1])]
    assert all(0.8 <= d <= 0.9 for d in dev)  # HLE
    assert all(0.5 <= d <= 0.7 for d in test)  # GPQA
    assert 0.8 <= SCIENCE.sim_item(0, test_records[-1]).difficulty <= 0.9  # an explicit source wins
    assert len(set(dev)) > 1 and len(set(test)) > 1
    assert "source" not in SCIENCE.problem(0, test_records[0]).extra  # trusted-side only


def test_sim_item_answer_distractors_and_question():
    rec = record(n_choices=6, answer="D", difficulty=0.4)
    item = SCIENCE.sim_item(2, rec)
    assert item.answer == "D" and item.answer_format == "choice" and item.difficulty == 0.4
    assert item.question == SCIENCE.problem(2, rec).question
    assert item.distractors and "D" not in item.distractors
    assert set(item.distractors) <= {"A", "B", "C", "E", "F"} and len(set(item.distractors)) == len(item.distractors)
    assert SCIENCE.sim_item(2, rec) == item  # stable
