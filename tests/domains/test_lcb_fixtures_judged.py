"""Every fixture problem, judged for real (bubblewrap, mac.judge): its reference passes every test, each wrong
variant fails at least one, and enough wrong variants pass the public tests that hidden tests matter."""

from __future__ import annotations

import asyncio

import pytest

from mac.domains import get_domain
from mac.domains.grader import Gradable, GradingContext
from mac.sandbox.registry import get_backend


@pytest.mark.slow
def test_references_pass_and_wrong_variants_fail(data_home) -> None:
    lcb = get_domain("lcb")
    records = lcb.load("dev") + lcb.load("test")
    items, kinds = [], []
    for record in records:
        items.append(Gradable(idx=record.id, pred=record.reference, record=record))
        kinds.append("reference")
        for wrong in record.wrong:
            items.append(Gradable(idx=record.id, pred=wrong["code"], record=record))
            kinds.append(wrong["why"])
    grades = asyncio.run(lcb.grading.grade(lcb, items, GradingContext(backend=get_backend("bwrap"))))
    failures = [(item.idx, kind, grade.explanation) for item, kind, grade in zip(items, kinds, grades)
                if grade.correct != (kind == "reference")]
    assert failures == []
    # a wrong variant that only hidden tests catch: the first failing test comes after the public ones
    subtle = [g for item, kind, g in zip(items, kinds, grades) if kind != "reference"
              and next(i for i, t in enumerate(g.tests) if t["status"] != "passed")
              >= len(item.record.extra["public_test_cases"])]
    assert len(subtle) >= len(records) // 2
    assert all(g.pred is None and set(g.tests[0]) == {"status", "time_sec", "detail"} for g in grades)
