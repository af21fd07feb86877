"""Answer-like tables in values and Python literals: what the answer-table detector (mac.audit.answers) compares.

A *table* is a literal list/tuple/set of answer-like scalars (integers, single letters A-J), a dict whose values
are answer-like, a list of records with an answer field ({"idx": 3, "answer": 33}), or a string of them
("CADBB...", "33, 25, 7, ..."). Literals are read with a bounded converter that never evaluates code.
"""

from __future__ import annotations

import ast
import io
import itertools
import re
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterator

MIN_TABLE = 5
UNVERIFIED_TABLE = 20
"""Without dev answers, only tables at least this long are worth a (low) note."""
MAX_TABLES = 300
MAX_ROWS = 200_000
MAX_COLUMNS = 16
ANSWER_FIELDS = ("answer", "answers", "ans", "gold", "label", "target", "solution", "expected", "correct_answer",
                 "final_answer", "ground_truth", "correct")
KEY_FIELDS = ("idx", "index", "id", "problem_id", "qid", "question_id", "question", "problem", "prompt")
_INT = re.compile(r"^[+-]?\d{1,12}$")
_LETTER = re.compile(r"^\(?([A-Ja-j])\)?\.?$")
_LETTER_RUN = re.compile(r"^[A-J]{8,}$")
_SPLIT = re.compile(r"[\s,;|]+")
_LINE = re.compile(r"""^(?=[^\n]{0,4096}$)[ \t]*(?:(.*?)[ \t:=,;|>\-\[({'"]+)?\(?([A-Ja-j]|[+-]?\d{1,12})\)?"""
                   r"""[ \t'",;)\]}.]*\r?$""", re.M)
_KEY_JUNK = " \t'\"{}[](),;:=|<>-"


def canon(value: Any) -> str | None:
    """The comparable form of an answer-like scalar ("033" -> "33", "(c)" -> "C"), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e12 else None
    if not isinstance(value, str) or len(value) > 16:
        return None
    s = value.strip().rstrip(".")
    if _INT.match(s):
        return str(int(s))
    m = _LETTER.match(s)
    return m.group(1).upper() if m else None


@dataclass
class Table:
    line: int
    values: list[str]
    keys: list[Any] | None = None
    what: str = "list"
    via: str = ""
    """How it was reached when decoded: "gzip data, base64", "member answers.npy" ("" when read as it is)."""
    truncated: bool = False
    """The data had more entries than were read (MAX_ROWS): the rest was not compared."""


# -- finding tables in values ----------------------------------------------------------------------------
MAX_VISITS = 200_000
"""Containers visited per value at most: YAML aliases can make a small file a huge (shared) graph."""


def tables_in_value(value: Any, line: int, out: list[Table], depth: int = 0, budget: list[int] | None = None) -> None:
    """Collect the tables in a plain Python value (from JSON, YAML, TOML or a literal), recursing a few levels."""
    budget = budget if budget is not None else [MAX_VISITS]
    budget[0] -= 1
    if len(out) >= MAX_TABLES or depth > 6 or budget[0] < 0:
        return
    if isinstance(value, str):
        table = _string_table(value, line)
        if table:
            out.append(table)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        _sequence_table(items, line, out)
        for item in items[:500]:
            if isinstance(item, (list, tuple, dict, set, frozenset)):
                tables_in_value(item, line, out, depth + 1, budget)
    elif isinstance(value, dict):
        _mapping_table(value, line, out)
        for item in list(value.values())[:500]:
            if isinstance(item, (list, tuple, dict, set, frozenset)):
                tables_in_value(item, line, out, depth + 1, budget)


def tables_in_rows(rows: list[list[Any]], line: int, out: list[Table], what: str = "rows") -> None:
    """Columns of a grid (CSV, a database table): each column of answer-like values, in order and keyed by each
    other column."""
    rows = [r for r in rows[:MAX_ROWS] if isinstance(r, (list, tuple))]
    width = min(max((len(r) for r in rows), default=0), MAX_COLUMNS)
    columns = [[r[c] if c < len(r) else None for r in rows] for c in range(width)]
    for c, column in enumerate(columns):
        values = [canon(v) for v in column]
        usable = [i for i, v in enumerate(values) if v is not None]
        if len(usable) < MIN_TABLE or len(usable) < 0.8 * len(values):
            continue
        picked = [values[i] for i in usable]
        out.append(Table(line, picked, None, f"column {c + 1} of {len(rows)} {what}"))
        for k, keys in enumerate(columns):
            if k != c and len(out) < MAX_TABLES:
                out.append(Table(line, picked, [keys[i] for i in usable], f"column {c + 1} keyed by column {k + 1} "
                                                                         f"of {len(rows)} {what}"))


def iter_lines(text: str, limit: int = MAX_ROWS) -> Iterator[str]:
    """The first `limit` lines of `text`, one at a time (a huge text is never split into a list at once)."""
    return (line.rstrip("\r\n") for line in itertools.islice(io.StringIO(text), limit))


def tables_in_lines(text: str, line: int, out: list[Table]) -> None:
    """Lines that end in an answer-like value ("What is 6 x 7?: 42", "- 42", "abc123 => C"): their values in
    order, keyed by what precedes the value on the line. At most MAX_ROWS lines (`truncated` says when more)."""
    keys: list[Any] = []
    values: list[str] = []
    truncated = False
    for m in _LINE.finditer(text):
        if len(values) >= MAX_ROWS:
            truncated = True
            break
        token = m.group(2)
        values.append(token.upper() if token.isalpha() else str(int(token)))  # what canon() gives, faster
        keys.append((m.group(1) or "").strip().strip(_KEY_JUNK).strip() or None)
    if len(values) >= MIN_TABLE:
        labelled = sum(k is not None for k in keys)
        out.append(Table(line, values, keys if labelled >= MIN_TABLE else None,
                         f"{len(values)} lines ending in answer-like values", truncated=truncated))


def _sequence_table(items: list[Any], line: int, out: list[Table]) -> None:
    if len(items) < MIN_TABLE:
        return
    values = [canon(v) for v in items]
    if all(v is not None for v in values):
        out.append(Table(line, values, None, f"literal sequence of {len(values)} answer-like values"))
        return
    if all(isinstance(v, dict) for v in items):
        pairs = [_record_answer(v) for v in items]
        if all(p is not None for p in pairs):
            keys = [p[0] for p in pairs]
            vals = [p[1] for p in pairs]
            out.append(Table(line, vals, keys if any(k is not None for k in keys) else None,
                             f"{len(vals)} records with an answer field"))


def _mapping_table(mapping: dict[Any, Any], line: int, out: list[Table]) -> None:
    if len(mapping) < MIN_TABLE:
        return
    keys = list(mapping.keys())
    values = [canon(v) for v in mapping.values()]
    if all(v is not None for v in values):
        out.append(Table(line, values, keys, f"mapping of {len(values)} keys to answer-like values"))
        return
    inner = [_record_answer(v) if isinstance(v, dict) else None for v in mapping.values()]
    if all(p is not None for p in inner):
        out.append(Table(line, [p[1] for p in inner], keys, f"mapping of {len(keys)} keys to answer records"))


def _record_answer(record: dict[Any, Any]) -> tuple[Any, str] | None:
    answer = next((canon(record[f]) for f in ANSWER_FIELDS if f in record), None)
    if answer is None:
        return None
    key = next((record[f] for f in KEY_FIELDS if f in record and isinstance(record[f], (int, str))), None)
    return key, answer


def _string_table(text: str, line: int) -> Table | None:
    s = text.strip()
    if len(s) < 8 or len(s) > 50_000:
        return None
    if _LETTER_RUN.match(s):
        return Table(line, list(s), None, f"string of {len(s)} answer letters")
    parts = [p for p in _SPLIT.split(s) if p]
    if len(parts) >= 8 and ("," in s or "\n" in s or ";" in s):
        values = [canon(p) for p in parts]
        if all(v is not None for v in values):
            return Table(line, values, None, f"string of {len(values)} answer-like values")
    return None


# -- literals in Python source ---------------------------------------------------------------------------
class NotLiteral(Exception):
    pass


def literal_value(node: ast.AST, budget: list[int], depth: int = 0) -> Any:
    """A literal container node as a value (like ast.literal_eval, bounded in size and depth; never runs code)."""
    budget[0] -= 1
    if budget[0] < 0 or depth > 50:
        raise NotLiteral
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)):
        return -node.operand.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [literal_value(e, budget, depth + 1) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotLiteral
        pairs = [(literal_value(k, budget, depth + 1), literal_value(v, budget, depth + 1))
                 for k, v in zip(node.keys, node.values)]
        try:
            return dict(pairs)
        except TypeError:
            raise NotLiteral from None
    raise NotLiteral


def tables_in_tree(tree: ast.AST) -> list[Table]:
    """Every table in the literal containers and strings of a parsed module."""
    out: list[Table] = []
    stack: list[ast.AST] = [tree]
    while stack and len(out) < MAX_TABLES:
        node = stack.pop()
        if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            try:
                tables_in_value(literal_value(node, [200_000]), node.lineno, out)
                continue
            except NotLiteral:
                pass
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            table = _string_table(node.value, node.lineno)
            if table:
                out.append(table)
        stack.extend(ast.iter_child_nodes(node))
    return out

