"""Deterministic generator of the `arith` domain: multi-step arithmetic word problems with exact answers.

A problem is a story about one person's collection: a first step sets it (boxes times items per box), then each
step adds, gives away, buys more boxes, multiplies or shares equally. Level L (1-5) has L + 1 steps and bigger
numbers. The answer and the typical wrong answers (a dropped step, an off-by-one share, a wrong operation) are
computed exactly from the same list of operations. Everything depends only on (split, index, salt): no download.
The dev split has no salt (it is public); the test split's salt is the controller's secret seed
(mac.domains.testseed), so this public code cannot rebuild it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

LEVELS = 5
MAX_TOTAL = 2_000_000
"""Collections never grow past this, so answers stay readable."""

_PEOPLE = [("Ava", "she", "her", "herself"), ("Ben", "he", "his", "himself"), ("Chloe", "she", "her", "herself"),
           ("Diego", "he", "his", "himself"), ("Emma", "she", "her", "herself"), ("Farid", "he", "his", "himself"),
           ("Grace", "she", "her", "herself"), ("Hiro", "he", "his", "himself"), ("Isla", "she", "her", "herself"),
           ("Jonas", "he", "his", "himself"), ("Keiko", "she", "her", "herself"), ("Liam", "he", "his", "himself")]
_FRIENDS = ["Maya", "Noah", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor"]
_GOODS = [("pencils", "boxes"), ("apples", "baskets"), ("marbles", "bags"), ("stickers", "sheets"),
          ("cookies", "trays"), ("cards", "packs"), ("eggs", "cartons"), ("books", "crates"), ("beads", "strings"),
          ("stamps", "albums"), ("seeds", "packets"), ("bottles", "cases")]


@dataclass(frozen=True)
class Op:
    """One step: `kind` in set_groups, add, add_groups, sub, mul, share; `a`, `b` its numbers."""

    kind: str
    a: int
    b: int = 0


@dataclass(frozen=True)
class ArithProblem:
    question: str
    answer: int
    level: int
    steps: int
    distractors: list[str]


def apply(total: int, op: Op, mistake: str | None = None) -> int:
    """`total` after `op`; `mistake` is "wrong_op" or "off_by_one" for the typical wrong computation."""
    if op.kind == "set_groups":
        return op.a + op.b if mistake == "wrong_op" else op.a * op.b
    if op.kind == "add":
        return total - op.a if mistake == "wrong_op" else total + op.a
    if op.kind == "add_groups":
        return total + op.a if mistake == "wrong_op" else total + op.a * op.b
    if op.kind == "sub":
        return total + op.a if mistake == "wrong_op" else total - op.a
    if op.kind == "mul":
        return total + op.a if mistake == "wrong_op" else total * op.a
    if op.kind == "share":
        if mistake == "off_by_one":
            return total // op.a  # forgot to count the person themself
        return total * (op.a + 1) if mistake == "wrong_op" else total // (op.a + 1)
    raise ValueError(f"unknown step {op.kind!r}")


def evaluate(ops: list[Op], skip: int | None = None, mistake_at: int | None = None, mistake: str | None = None) -> int:
    total = 0
    for i, op in enumerate(ops):
        if i == skip:
            continue
        total = apply(total, op, mistake if i == mistake_at else None)
    return total


def distractors(ops: list[Op], answer: int, k: int = 4) -> list[str]:
    """Typical wrong answers, most typical first: a dropped step, an off-by-one, a wrong operation."""
    dropped = [evaluate(ops, skip=i) for i in range(len(ops) - 1, 0, -1)]
    shares = [i for i, op in enumerate(ops) if op.kind == "share"]
    off = [evaluate(ops, mistake_at=i, mistake="off_by_one") for i in shares] or [answer + 1, answer - 1]
    wrong = [evaluate(ops, mistake_at=i, mistake="wrong_op") for i in range(len(ops) - 1, -1, -1)]
    out: list[str] = []
    for value in dropped[:1] + off[:1] + wrong[:1] + dropped[1:] + off[1:] + wrong[1:]:
        if value >= 0 and value != answer and str(value) not in out:
            out.append(str(value))
    return out[:k]


def _ops(rng: random.Random, level: int) -> list[Op]:
    scale = (10, 25, 60, 150, 400)[level - 1]
    groups, size = rng.randint(2, 3 + 2 * level), rng.randint(3, 4 + 4 * level)
    ops, total, shared = [Op("set_groups", groups, size)], groups * size, False
    while len(ops) < level + 1:
        kind = rng.choice(["add", "add_groups", "sub", "mul", "share"])
        if kind == "add":
            op = Op("add", rng.randint(2, scale))
        elif kind == "add_groups":
            op = Op("add_groups", rng.randint(2, 2 + level), size)
        elif kind == "sub" and total > 3:
            op = Op("sub", rng.randint(1, min(scale, total - 2)))
        elif kind == "mul" and total * (level + 2) <= MAX_TOTAL:
            op = Op("mul", rng.randint(2, level + 2))
        elif kind == "share" and not shared and (friends := _friends_that_divide(rng, total)):
            op, shared = Op("share", friends), True
        else:
            continue
        ops.append(op)
        total = apply(total, op)
    return ops


def _friends_that_divide(rng: random.Random, total: int) -> int | None:
    """A number of friends n in 2..7 such that `total` splits evenly among n + 1 people."""
    options = [n for n in range(2, 8) if total % (n + 1) == 0 and total // (n + 1) >= 2]
    return rng.choice(options) if options else None


def _text(rng: random.Random, ops: list[Op]) -> str:
    name, subj, poss, refl = rng.choice(_PEOPLE)
    items, boxes = rng.choice(_GOODS)
    friends = rng.sample(_FRIENDS, k=len(ops))
    Subj = subj.capitalize()
    lines = []
    for op, friend in zip(ops, friends, strict=True):
        lines.append({
            "set_groups": f"{name} buys {op.a} {boxes} of {items}, and each of the {boxes} holds {op.b} {items}.",
            "add": f"{friend} gives {name} {op.a} more {items}.",
            "add_groups": f"Later {subj} buys {op.a} more {boxes} of the same size.",
            "sub": f"{Subj} gives {op.a} {items} to {friend}.",
            "mul": f"After a trade, {subj} has {op.a} times as many {items} as before.",
            "share": f"{Subj} then shares all of {poss} {items} equally among {refl} and {op.a} friends, "
                     f"and keeps {poss} own share.",
        }[op.kind])
    return " ".join(lines) + f" How many {items} does {name} have now?"


def make_problem(split: str, index: int, attempt: int = 0, salt: str = "") -> ArithProblem:
    """Problem `index` of `split`: level 1 + index % 5, from a seed that only this (split, index, attempt, salt)
    uses."""
    rng = random.Random(f"mac-arith/{split}/{index}/{attempt}" + (f"/{salt}" if salt else ""))
    level = 1 + index % LEVELS
    ops = _ops(rng, level)
    answer = evaluate(ops)
    return ArithProblem(question=_text(rng, ops), answer=answer, level=level, steps=len(ops),
                        distractors=distractors(ops, answer))


def generate(split: str, n: int, avoid: set[str] | frozenset[str] = frozenset(), salt: str = "") -> list[ArithProblem]:
    """`n` problems of `split`, none whose question is in `avoid` nor repeated."""
    seen, out = set(avoid), []
    for index in range(n):
        attempt = 0
        while (problem := make_problem(split, index, attempt, salt)).question in seen:
            attempt += 1
        seen.add(problem.question)
        out.append(problem)
    return out
