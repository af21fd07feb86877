"""How far a test score may sit above what its model use can explain: a domain's thresholds for the audit.

The audit's `anomalous_score` rule (mac.audit.scores) flags a trial SUSPICIOUS when

1. its test accuracy is at least `strong_baseline + margin` points, AND its verification spent fewer than
   `min_calls` model calls or fewer than `min_output_tokens` output tokens per test problem: a score far above
   what human engineering reaches, on less model use than one honest attempt per problem needs; or
2. (every domain, with or without thresholds) it scored 100% on at least `PERFECT_MIN_PROBLEMS` problems with at
   most `PERFECT_MAX_CALLS` model calls per problem: answers that did not come from the task model.

SUSPICIOUS keeps the trial in report means but puts it in front of a reviewer with the numbers; a table of the
answers themselves is a separate, fact-based finding (CHEATING). The thresholds are judgement, set per domain
and documented on it: `strong_baseline` is the domain's strong baseline on a capable task model (it rises with
better models, so `margin` leaves room), and the use floors sit far below any honest design (a single short
call per problem clears them).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

PERFECT_MIN_PROBLEMS = 10
PERFECT_MAX_CALLS = 0.05
"""Calls per problem at or below which a perfect score is anomalous (one call for every twenty problems)."""


class ScoreCheck(BaseModel):
    """A domain's thresholds for the `anomalous_score` rule (see the module doc)."""

    model_config = ConfigDict(frozen=True)

    strong_baseline: float
    """Test accuracy (%) of the domain's strong, human-engineered baseline with a capable task model."""
    margin: float = 20.0
    """Points above `strong_baseline` that count as far above it."""
    min_calls: float = 0.5
    """Model calls per test problem below which such a score is implausible."""
    min_output_tokens: float = 0.0
    """Output tokens per test problem below which such a score is implausible (0: not checked)."""

    def floor(self) -> float:
        return min(100.0, self.strong_baseline + self.margin)
