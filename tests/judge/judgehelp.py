"""Helpers of the judge's tests (a uniquely named module: several test folders have a conftest.py)."""

from __future__ import annotations

from mac.judge import ProblemVerdict


def statuses(verdict: ProblemVerdict) -> list[str]:
    return [o.status.value for o in verdict.outcomes]
