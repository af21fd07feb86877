"""The leaderboard's statistics: a configuration's test score and its comparison with the baselines.

A test score has two sources of noise: the seed (one run of the meta-agent) and the test set (which problems it
happens to hold). So each configuration reports the mean and std of its trials' scores over seeds, and a 95%
bootstrap interval that resamples both seeds and test problems (per-problem scores come from each trial's
verification.json). A comparison with a baseline bootstraps the difference of the means, resampling the problems
once for both sides when both scored the same problems (paired). "beats" is claimed only with at least
MIN_RUNS counted trials and an interval of the difference above 0; fewer runs say "not enough runs".
"""

from __future__ import annotations

from pydantic import BaseModel

from mac.report.baselines import BaselineRow
from mac.report.stats import BOOTSTRAP_REPS, BOOTSTRAP_SEED, Summary, bootstrap_difference, bootstrap_mean

MIN_RUNS = 3
"""Counted trials a configuration needs before the report claims it beats (or falls below) a baseline."""
VERDICTS = ("beats", "below", "no clear difference", "not enough runs")
METHOD = (f"test: mean ± std over seeds; 95% CI: percentile bootstrap ({BOOTSTRAP_REPS} resamples, seed "
          f"{BOOTSTRAP_SEED}) of seeds and test problems; vs baselines: bootstrap of the difference, paired on the "
          f"same problems; \"beats\" needs n ≥ {MIN_RUNS} runs and a CI above 0, else \"not enough runs\"")
"""The method in one line, as the report states it (terminal, JSON, HTML)."""


class ScoreStats(BaseModel):
    """Statistics over trials or seeds. For test scores the CI is the bootstrap over seeds and problems; for
    other figures it is Student's t (at least two values)."""

    n: int = 0
    mean: float | None = None
    std: float | None = None
    ci95_low: float | None = None
    ci95_high: float | None = None
    min: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, summary: Summary, *, accuracy: bool = False) -> ScoreStats:
        """`accuracy=True` clips the interval to 0-100: with 2-3 trials a t interval can reach past what an
        accuracy can be, and the part outside says nothing."""
        low, high = summary.ci_low, summary.ci_high
        if accuracy and low is not None and high is not None:
            low, high = max(0.0, low), min(100.0, high)
        return cls(n=summary.n, mean=summary.mean, std=summary.std, ci95_low=low, ci95_high=high,
                   min=summary.min, max=summary.max)


class BaselineComparison(BaseModel):
    kind: str
    score: ScoreStats
    """The baseline's own score over its seeds."""
    difference: float | None = None
    """The configuration's mean test score minus the baseline's (points)."""
    diff_ci95_low: float | None = None
    diff_ci95_high: float | None = None
    paired: bool = False
    """The difference was bootstrapped problem by problem (both sides scored the same problems)."""
    verdict: str | None = None
    """"beats", "below", "no clear difference", "not enough runs" (None: no score to compare)."""

    @property
    def beats(self) -> bool:
        return self.verdict == "beats"


class ScoreRows(BaseModel):
    """Per-problem scores of some runs (seeds x problems) and whether they are real per-problem scores (aligned:
    the same problems in the same order) or rebuilt from correct/total (order unknown)."""

    rows: list[list[float]]
    aligned: bool


def score_rows(runs: list[tuple[list[float] | None, int, int]]) -> ScoreRows | None:
    """`runs` as (per-problem scores or None, correct, total); rows rebuilt from correct/total where needed."""
    rows, aligned = [], True
    for scores, correct, total in runs:
        if scores:
            rows.append(list(scores))
        elif total > 0:
            rows.append([1.0] * correct + [0.0] * (total - correct))
            aligned = False
    return ScoreRows(rows=rows, aligned=aligned) if rows else None


def scored_stats(summary: Summary, runs: ScoreRows | None) -> ScoreStats:
    """Mean and std over seeds (from `summary`) with the bootstrap interval of `runs`."""
    stats = ScoreStats.of(summary, accuracy=True)
    if runs is None or summary.n == 0:
        return stats.model_copy(update={"ci95_low": None, "ci95_high": None})
    interval = bootstrap_mean(runs.rows, aligned=runs.aligned)
    return stats.model_copy(update={"ci95_low": interval.low, "ci95_high": interval.high})


def compare(n: int, runs: ScoreRows | None, baselines: dict[str, list[BaselineRow]],
            scores: dict[str, Summary]) -> list[BaselineComparison]:
    """One comparison per baseline kind: the bootstrapped difference and the verdict (see module doc)."""
    out = []
    for kind, rows in baselines.items():
        comparison = BaselineComparison(kind=kind, score=ScoreStats.of(scores[kind], accuracy=True))
        base = score_rows([(r.scores if len(r.scores) == r.total else None, round(r.accuracy * r.total / 100), r.total)
                           for r in rows])
        if runs is not None and base is not None:
            interval, paired = bootstrap_difference(runs.rows, base.rows, aligned=runs.aligned and base.aligned)
            comparison = comparison.model_copy(update={
                "difference": interval.value, "diff_ci95_low": interval.low, "diff_ci95_high": interval.high,
                "paired": paired, "verdict": _verdict(n, interval.low, interval.high)})
        out.append(comparison)
    return out


def _verdict(n: int, low: float, high: float) -> str:
    if n < MIN_RUNS:
        return "not enough runs"
    if low > 0:
        return "beats"
    if high < 0:
        return "below"
    return "no clear difference"
