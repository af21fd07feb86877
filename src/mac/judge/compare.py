"""LiveCodeBench's comparison rules, applied in the controller to plain strings (nothing here evaluates code).

stdin/stdout: both texts are stripped, split on "\\n", and each line stripped; the line counts must match; two
lines match if they are equal, or if both split on whitespace into the same number of decimal numbers that are
equal as `decimal.Decimal` values (exact: "1.50" equals "1.5" and "1e3" equals "1000", but 0.30000000000000004
does not equal 0.3; there is no tolerance).

call-based: the expected output is JSON; the program's result arrives as JSON (made in its own sandbox, see
harness.py); they match if the decoded values are equal under Python's `==`, as LiveCodeBench compares a
returned value with the decoded expected one (so 2 == 2.0 and true == 1, as there).

Integers longer than Python's str->int conversion limit are kept as digit strings (`BigInt`) rather than
converted: converting a megabyte of digits would take the controller seconds, and the limit is global state.
"""

from __future__ import annotations

import decimal
import json
from decimal import Decimal
from typing import Any

INT_DIGITS = 4300
"""Integers with more digits than this stay digit strings (Python's default conversion limit)."""


def stripped_lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().split("\n")]


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except (decimal.InvalidOperation, ValueError):
        return None


def _lines_match(actual: str, expected: str) -> bool:
    if actual == expected:
        return True
    got, want = _decimals(actual), _decimals(expected)
    if got is None or want is None:
        return False
    try:
        return got == want
    except decimal.InvalidOperation:  # a signalling NaN refuses comparison (LiveCodeBench: a failed test)
        return False


def compare_stdout(actual: str, expected: str) -> tuple[bool, str]:
    """(match, detail). The detail names a line number or the actual line count, never expected text."""
    got, want = stripped_lines(actual), stripped_lines(expected)
    if len(got) != len(want):
        return False, f"the output has {len(got)} line(s), not the expected number"
    for number, (line, expected_line) in enumerate(zip(got, want), start=1):
        if not _lines_match(line, expected_line):
            return False, f"line {number} differs"
    return True, ""


class BigInt:
    """An integer beyond the conversion limit, kept as its JSON digits; equal only to the same digits."""

    __slots__ = ("digits",)

    def __init__(self, digits: str):
        self.digits = digits

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BigInt) and other.digits == self.digits

    def __hash__(self) -> int:
        return hash(self.digits)

    def __repr__(self) -> str:
        return f"BigInt({len(self.digits)} digits)"


def _parse_int(text: str) -> int | BigInt:
    return int(text) if len(text.lstrip("-")) <= INT_DIGITS else BigInt(text)


def load_json(text: str | bytes) -> Any:
    """json.loads with big integers kept as BigInt; raises ValueError (or RecursionError) on bad input."""
    return json.loads(text, parse_int=_parse_int)


def compare_value(actual: Any, expected: Any) -> bool:
    """LiveCodeBench's `prediction == expected` on decoded JSON values (never on the program's own objects)."""
    try:
        return bool(actual == expected)
    except RecursionError:
        return False
