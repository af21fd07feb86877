"""The strict parsers behind the graders: accepted final-answer forms, and everything that must read as wrong."""

from __future__ import annotations

import pytest

from mac.domains.answers import MAX_CHARS, boxed_contents, choice_map, parse_choice, parse_integer

ACCEPTED_INTEGERS = [
    ("33", "33"), ("033", "33"), ("0033", "33"), ("\\boxed{33}", "33"), ("\\boxed{ 033 }", "33"),
    ("The answer is 33", "33"), ("the final answer is 33.", "33"), ("Answer: 33", "33"), ("**Answer:** 33", "33"),
    ("33.", "33"), ("$33$", "33"), ("$\\boxed{33}$.", "33"), ("(33)", "33"), ("33.0", "33"), ("0", "0"),
    ("999", "999"), ("Some reasoning.\nTherefore, the final answer is \\boxed{33}.", "33"),
    ("\\boxed{33} and again \\boxed{033}", "33"),
]

WRONG_INTEGERS = [
    "", "   ", "junk", "thirty-three", "30+3", "3*11", "33 or 34", "33, 34", "The answer is 33, not 34",
    "Answer: 33 or 34", "\\boxed{33} or \\boxed{34}", "Answer: 33\nAnswer: 34", "33.5", "-5", "1000", "+33",
    "1e2", "0x21", "I think it's 33", "\\frac{66}{2}", "\\boxed{\\frac{66}{2}}", "\\dfrac{99}{3}", "\\sqrt{1089}",
    "__import__('os').system('rm -rf /')", "__import__('os').system('echo 33')", "eval('33')",
    "\\boxed{33", "³³", "٣٣", "1,000",
]


@pytest.mark.parametrize("pred,expected", ACCEPTED_INTEGERS)
def test_integer_forms_accepted(pred, expected):
    assert parse_integer(pred) == expected


@pytest.mark.parametrize("pred", WRONG_INTEGERS)
def test_integer_wrong_forms_read_as_none(pred):
    assert parse_integer(pred) is None


@pytest.mark.parametrize("pred", [None, 33, 33.0, b"33", ["33"], {"answer": "33"}, object()])
def test_non_strings_read_as_none(pred):
    assert parse_integer(pred) is None
    assert parse_choice(pred, {"A": "x", "B": "y"}) is None


def test_integer_range_is_a_parameter():
    assert parse_integer("1,234", 0, 10**6) == "1234"
    assert parse_integer("1234", 0, 999) is None
    assert parse_integer("12,34", 0, 10**6) is None  # misplaced separator


@pytest.mark.parametrize("pred", [
    "9" * 10_000_000,
    "\\boxed{" * 200_000,
    "{" * (MAX_CHARS - 10) + "\\boxed{33}",
    ("answer " + " " * 4000 + "x\n") * 4,
    "\\boxed{33}" * (MAX_CHARS // 10),
    "(" * (MAX_CHARS // 2) + "33" + ")" * (MAX_CHARS // 2 - 10),
    "$" * MAX_CHARS,
])
def test_huge_and_adversarial_strings_never_raise(pred):
    assert parse_integer(pred) in (None, "33")
    assert parse_choice(pred, choice_map(["A) a", "B) b"])) is None


def test_longer_than_the_cap_is_wrong_even_with_a_clean_box():
    assert parse_integer(" " * MAX_CHARS + "\\boxed{33}") is None


def test_boxed_contents_balances_braces_and_ignores_unclosed():
    assert boxed_contents("\\boxed{\\frac{1}{2}} x \\boxed{7}") == ["\\frac{1}{2}", "7"]
    assert boxed_contents("\\boxed{7") == []
    assert boxed_contents("\\boxed{\\boxed{7}") == ["7"]


FOUR = choice_map(["A) 10^-8 eV", "B) 10^-11 eV", "C) 10^-9 eV", "D) 10^-4 eV"])


@pytest.mark.parametrize("pred", [
    "C", "c", "(C)", "C)", "C.", "[C]", "**C**", "$C$", "\\boxed{C}", "Answer: C", "Answer: (C)", "answer: c",
    "The answer is C", "The answer is C.", "The correct answer is (C).", "Option C", "C) 10^-9 eV",
    "Reasoning first.\nAnswer: C", "Answer: C\nExplanation: the others are too small.",
])
def test_choice_forms_accepted(pred):
    assert parse_choice(pred, FOUR) == "C"


@pytest.mark.parametrize("pred", [
    "E", "Z", "Answer: E", "(F)", "C and D", "C or D", "Answer: C or D", "Answer: C\nAnswer: D", "CD", "A, B",
    "I pick C because it is smaller", "none of them", "", "C) 10^-4 eV", "10^-9 eV", "Answer: maybe",
])
def test_choice_wrong_forms_read_as_none(pred):
    assert parse_choice(pred, FOUR) is None


def test_letters_come_from_the_problems_choices():
    many = choice_map([f"{chr(65 + i)}) option {i}" for i in range(26)])
    assert parse_choice("Z", many) == "Z"
    assert parse_choice("Answer: M", many) == "M"
    assert parse_choice("E", FOUR) is None
    assert choice_map(["no prefix", "B) second"]) == {"A": "no prefix", "B": "second"}
    assert choice_map(None) == {}
