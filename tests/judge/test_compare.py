"""LiveCodeBench's comparison rules, as the controller applies them (mac.judge.compare): plain strings in, a
match and a detail out."""

from __future__ import annotations

import pytest

from mac.judge.compare import BigInt, compare_stdout, compare_value, load_json, stripped_lines


def test_lines_are_stripped_and_surrounding_blank_lines_ignored():
    assert stripped_lines("\n  a b  \r\n c\n\n") == ["a b", "c"]
    assert compare_stdout("  3\n4  \n\n", "3\n4")[0]
    assert compare_stdout("3\r\n4\r\n", "3\n4\n")[0]


def test_line_counts_must_match_and_blank_lines_inside_count():
    same, detail = compare_stdout("3\n\n4", "3\n4")
    assert not same and detail == "the output has 3 line(s), not the expected number"
    assert not compare_stdout("3 4", "3\n4")[0]


@pytest.mark.parametrize("actual, expected", [
    ("1.50", "1.5"), ("1e3", "1000"), ("-0", "0"), ("+7", "7"), ("0.10 2", "0.1 2.0"), ("1_000", "1000"),
    ("Infinity", "inf"),
])
def test_numbers_match_as_exact_decimals(actual, expected):
    assert compare_stdout(actual, expected) == (True, "")


@pytest.mark.parametrize("actual, expected", [
    ("0.30000000000000004", "0.3"),  # no tolerance
    ("0.3333333", "0.3333334"),
    ("1 2", "1 2 3"),                # token counts differ
    ("NaN", "nan"),                  # as numbers NaN never equals NaN (the same text does, as text) ...
    ("sNaN", "snan"),                # ... and a signalling NaN refuses comparison: a failed test
    ("YES", "yes"),                  # case matters
    ("a  b", "a b"),                 # inner whitespace of non-numbers matters
])
def test_these_do_not_match(actual, expected):
    assert compare_stdout(actual, expected)[0] is False


def test_the_detail_names_the_line_never_the_expected_text():
    same, detail = compare_stdout("1\n2\nwrong", "1\n2\nSECRET-EXPECTED")
    assert not same and detail == "line 3 differs" and "SECRET" not in detail


def test_call_based_values_compare_with_python_equality():
    assert compare_value(load_json("[1, 2.0, true]"), load_json("[1, 2, 1]"))  # as `==` in LiveCodeBench
    assert compare_value(load_json('{"a": [1]}'), load_json('{"a": [1]}'))
    assert not compare_value(load_json("[1, 2]"), load_json("[2, 1]"))
    assert not compare_value(load_json('"1"'), load_json("1"))
    assert not compare_value(load_json("NaN"), load_json("NaN"))


def test_huge_integers_are_compared_as_digits_without_converting_them():
    digits = "7" * 200_000
    assert isinstance(load_json(digits), BigInt)
    assert compare_value(load_json(f"[{digits}]"), load_json(f"[{digits}]"))
    assert not compare_value(load_json(digits), load_json(digits[:-1] + "8"))
    assert not compare_value(load_json(digits), load_json(f'"{digits}"'))
    assert load_json("-" + "9" * 4300) == -int("9" * 4300)  # up to the limit: a real int


def test_deeply_nested_values_fail_instead_of_crashing_the_controller():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(RecursionError):
        load_json(deep)
    nested_a, nested_b = [], []
    a, b = nested_a, nested_b
    for _ in range(100_000):
        a.append([])
        b.append([])
        a, b = a[0], b[0]
    assert compare_value(nested_a, nested_b) is False
