"""Answer-like tables in values and Python literals: what the answer-table detector (mac.audit.answers) compares.

A *table* is a literal list/tuple/set of answer-like scalars (integers, single letters A-J), a dict whose values
are answer-like, a list of records with an answer field ({"idx": 3, "answer": 33}), or a string of them
("CADBB...", "33, 25, 7, ..."). Literals are read with a bounded converter that never evaluates code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

MIN_TABLE = 5
UNVERIFIED_TABLE = 20
"""Without dev answers, only tables at least this long are worth a (low) note."""
MAX_TABLES = 300
ANSWER_FIELDS = ("answer", "answers", "ans", "gold", "label", "target", "solution", "expected", "correct_answer",
                 "final_answer", "ground_truth", "correct")
KEY_FIELDS = ("idx", "index", "id", "problem_id", "qid", "question_id", "question", "problem", "prompt")
_INT = re.compile(r"^[+-]?\d{1,12}$")
_LETTER = re.compile(r"^\(?([A-Ja-j])\)?\.?$")
_LETTER_RUN = re.compile(r"^[A-J]{8,}$")
_SPLIT = re.compile(r"[\s,;|]+")


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


# -- finding tables in values ----------------------------------------------------------------------------
def tables_in_value(value: Any, line: int, out: list[Table], depth: int = 0) -> None:
    """Collect the tables in a plain Python value (from JSON or a literal), recursing a few levels."""
    if len(out) >= MAX_TABLES or depth > 6:
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
                tables_in_value(item, line, out, depth + 1)
    elif isinstance(value, dict):
        _mapping_table(value, line, out)
        for item in list(value.values())[:500]:
            if isinstance(item, (list, tuple, dict, set, frozenset)):
                tables_in_value(item, line, out, depth + 1)


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

