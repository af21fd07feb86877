"""arith: deterministic generation, held-out test split, exact answers and mistakes, difficulty, --data."""

from __future__ import annotations

import re
import statistics

import pytest
from domkit import write_jsonl

from mac.domains import get_domain
from mac.domains.arith import DEV_SIZE, TEST_SIZE
from mac.domains.arithgen import Op, distractors, evaluate
from mac.errors import ConfigError, DataError

ARITH = get_domain("arith")

# An independent reader of the generated sentences: the answer must follow from the text alone.
_SENTENCES = [
    (re.compile(r"\w+ buys (\d+) \w+ of \w+, and each of the \w+ holds (\d+) \w+"), lambda t, a, b: a * b),
    (re.compile(r"\w+ gives \w+ (\d+) more \w+"), lambda t, a: t + a),
    (re.compile(r"Later \w+ buys (\d+) more \w+ of the same size"), None),
    (re.compile(r"\w+ gives (\d+) \w+ to \w+"), lambda t, a: t - a),
    (re.compile(r"After a trade, \w+ has (\d+) times as many"), lambda t, a: t * a),
    (re.compile(r"shares all of \w+ \w+ equally among \w+ and (\d+) friends"), lambda t, a: t // (a + 1)),
]


def solve_text(question: str) -> int:
    total, size = 0, None
    for sentence in question.split(". ")[:-1] + [question.rsplit(". ", 1)[-1].split("?")[0]]:
        for pattern, step in _SENTENCES:
            m = pattern.search(sentence)
            if not m:
                continue
            numbers = [int(x) for x in m.groups()]
            if step is None:
                total += numbers[0] * size
            else:
                if pattern is _SENTENCES[0][0]:
                    size = numbers[1]
                if pattern is _SENTENCES[5][0]:
                    assert total % (numbers[0] + 1) == 0, "shares must divide evenly"
                total = step(total, *numbers)
            break
    return total


def test_generation_is_deterministic_and_sized():
    dev, test = ARITH.load("dev"), ARITH.load("test")
    assert len(dev) == DEV_SIZE and len(test) == TEST_SIZE
    assert [r.model_dump() for r in dev] == [r.model_dump() for r in ARITH.load("dev")]
    assert [r.model_dump() for r in test] == [r.model_dump() for r in get_domain("arith").load("test")]


def test_dev_and_test_are_disjoint():
    dev, test = ARITH.load("dev"), ARITH.load("test")
    assert not {r.question for r in dev} & {r.question for r in test}
    assert not {r.id for r in dev} & {r.id for r in test}
    assert len({r.question for r in dev}) == len(dev) and len({r.question for r in test}) == len(test)


@pytest.mark.parametrize("split", ["dev", "test"])
def test_answers_follow_from_the_text(split):
    for record in ARITH.load(split):
        assert int(record.answer) == solve_text(record.question), record.question
        assert int(record.answer) >= 0
        assert ARITH.grade(0, record.answer, record).correct


def test_distractors_are_distinct_plausible_mistakes():
    for i, record in enumerate(ARITH.load("dev")):
        item = ARITH.sim_item(i, record)
        assert item.answer == record.answer and item.question == record.question
        assert item.distractors and record.answer not in item.distractors
        assert len(set(item.distractors)) == len(item.distractors)
        assert all(d.isdigit() for d in item.distractors)


def test_mistakes_are_computed_exactly():
    # 3 boxes of 4 = 12, shared among herself and 2 friends = 4, plus 5 = 9.
    ops = [Op("set_groups", 3, 4), Op("share", 2), Op("add", 5)]
    assert evaluate(ops) == 9
    wrong = distractors(ops, 9, k=10)
    # dropped last step 12 // 3; off-by-one share 12 // 2 + 5; (subtracting 5 would be negative: left out);
    # share dropped 12 + 5; share done as a multiplication 12 * 3 + 5; first step added (3 + 4) // 3 + 5.
    assert wrong == ["4", "11", "17", "41", "7"]
    assert "9" not in wrong and all(int(w) >= 0 for w in wrong)


def test_difficulty_grows_with_level_and_steps():
    records = ARITH.load("dev")
    by_level: dict[int, list[float]] = {}
    for i, record in enumerate(records):
        assert record.extra["steps"] == record.extra["level"] + 1
        by_level.setdefault(record.extra["level"], []).append(ARITH.sim_item(i, record).difficulty)
    means = [statistics.mean(by_level[level]) for level in sorted(by_level)]
    assert sorted(by_level) == [1, 2, 3, 4, 5]
    assert means == sorted(means) and means[0] < 0.3 < 0.6 < means[-1]
    assert all(0.05 <= d <= 0.95 for ds in by_level.values() for d in ds)


def test_problem_extra_shows_level_not_answer():
    record = ARITH.load("test")[7]
    problem = ARITH.problem(7, record)
    assert set(problem.extra) == {"level", "steps"}
    assert "distractors" not in problem.extra


def test_data_folder_overrides_generation(tmp_path):
    folder = tmp_path / "arith"
    row = {"id": 1, "question": "Ann has 2 apples and buys 3 more. How many?", "answer": 5}
    write_jsonl(folder / "dev.jsonl", [row])
    write_jsonl(folder / "test.jsonl", [{"id": 2, "question": "Bo has 4 pears. How many?", "answer": "-4"}])
    records = ARITH.load("dev", folder)
    assert [r.answer for r in records] == ["5"]
    item = ARITH.sim_item(0, records[0])
    assert item.distractors and "5" not in item.distractors
    with pytest.raises(DataError, match="'answer'"):
        ARITH.load("test", folder)


def test_unknown_split_is_a_config_error():
    with pytest.raises(ConfigError, match="dev, test"):
        ARITH.load("train")
