"""Small-sample statistics for the leaderboard, with no dependency beyond `math`.

Trials are expensive, so a configuration often has 3-5 of them. Two sources of noise matter: which seed (the
meta-agent's run) and which problems the test set holds (60 questions give a score whose own noise is several
points). The leaderboard's intervals are therefore bootstrap intervals that resample both (`bootstrap_mean`,
and `bootstrap_difference` for comparisons with baselines, paired on the same problems), deterministic for a
fixed seed. Secondary figures (budget use, dev-to-test gaps) use Student's t interval (`summarize`), whose
quantile is found by inverting the t CDF (regularised incomplete beta function, evaluated by its continued
fraction) with bisection, accurate to ~1e-9.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from operator import itemgetter
from collections.abc import Callable

_TINY = 1e-300
_EPS = 1e-14


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction 1 + d1/(1 + d2/(1 + ...)) of I_x(a, b), by the modified Lentz method."""
    f, c, d = 1.0, 1.0, 0.0
    for j in range(1, 400):
        m = j // 2
        if j % 2:  # d_{2m+1}
            coef = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        else:  # d_{2m}
            coef = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + coef * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + coef / c
        c = c if abs(c) > _TINY else _TINY
        f *= c * d
        if abs(c * d - 1.0) < _EPS:
            break
    return f


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):  # the fraction converges fast only below this point
        return 1.0 - incomplete_beta(b, a, 1.0 - x)
    log_front = a * math.log(x) + b * math.log1p(-x) - (math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    return math.exp(log_front) / a / _beta_continued_fraction(a, b, x)


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The t value with P(T <= t) = p (e.g. p=0.975, df=4 -> 2.776), by bisection on the CDF."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:  # grow the bracket: df=1 at p=0.9995 needs ~637
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation and a two-sided t confidence interval of some scores.

    With one score, `std` and the interval are None (there is no spread to estimate from a single trial).
    """

    n: int
    mean: float | None
    std: float | None
    ci_low: float | None
    ci_high: float | None
    min: float | None
    max: float | None

    @property
    def half_width(self) -> float | None:
        return None if self.ci_high is None or self.mean is None else self.ci_high - self.mean


def summarize(values: list[float], confidence: float = 0.95) -> Summary:
    """Summary of `values` (sample std with n-1; CI = mean +- t_{(1+c)/2, n-1} * std / sqrt(n))."""
    n = len(values)
    if n == 0:
        return Summary(0, None, None, None, None, None, None)
    mean = math.fsum(values) / n
    if n == 1:
        return Summary(1, mean, None, None, None, values[0], values[0])
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile((1.0 + confidence) / 2.0, n - 1) * std / math.sqrt(n)
    return Summary(n, mean, std, mean - half, mean + half, min(values), max(values))


# -- bootstrap over seeds and test problems -------------------------------------------------------------------

BOOTSTRAP_REPS = 2000
BOOTSTRAP_SEED = 0
"""Fixed, so the same trials always give the same intervals."""


@dataclass(frozen=True)
class Interval:
    """A bootstrap estimate: the point value and a two-sided percentile interval (all in 0-100 points)."""

    value: float
    low: float
    high: float


def _percentiles(values: list[float], confidence: float) -> tuple[float, float]:
    ordered = sorted(values)
    tail = (1.0 - confidence) / 2.0
    last = len(ordered) - 1
    return ordered[round(tail * last)], ordered[round((1.0 - tail) * last)]


def _picked_sum(row: list[float], picks: list[int]) -> float:
    return sum(itemgetter(*picks)(row)) if len(picks) > 1 else row[picks[0]]


def _sampler(rows: list[list[float]], rng: random.Random) -> Callable[[list[int] | None], float]:
    """A function drawing one bootstrap mean of `rows` (seeds x problems): seeds resampled, problems resampled
    with the given indices (shared with another sampler, for a paired draw) or on their own (None)."""
    def draw(problems: list[int] | None) -> float:
        total, sums = 0.0, {}
        for seed in rng.choices(range(len(rows)), k=len(rows)):
            row = rows[seed]
            if problems is None:
                total += _picked_sum(row, rng.choices(range(len(row)), k=len(row))) / len(row)
                continue
            if seed not in sums:  # the same problems for every seed of this draw: one sum per distinct seed
                sums[seed] = _picked_sum(row, problems) / len(problems)
            total += sums[seed]
        return 100.0 * total / len(rows)
    return draw


def _mean_of_rows(rows: list[list[float]]) -> float:
    return 100.0 * math.fsum(math.fsum(r) / len(r) for r in rows) / len(rows)


def _aligned(*groups: list[list[float]]) -> bool:
    """Every row of every group scores the same problems (same length), so problems can be resampled jointly."""
    lengths = {len(row) for group in groups for row in group}
    return len(lengths) == 1


def bootstrap_mean(rows: list[list[float]], *, aligned: bool = True, reps: int = BOOTSTRAP_REPS,
                   seed: int = BOOTSTRAP_SEED, confidence: float = 0.95) -> Interval:
    """Mean score (0-100) of `rows`, one per seed, each the 0/1 (or partial) scores of its test problems, with a
    bootstrap interval that resamples seeds and problems. When the rows are `aligned` (every seed scored the
    same problems in the same order, as trials of one configuration do), each resample draws the problems once
    for all seeds; otherwise each seed's problems are drawn on their own."""
    if not rows or not all(rows):
        raise ValueError("bootstrap_mean needs at least one seed with at least one problem")
    rng = random.Random(seed)
    draw, shared = _sampler(rows, rng), aligned and _aligned(rows)
    m = len(rows[0])
    values = [draw(rng.choices(range(m), k=m) if shared else None) for _ in range(reps)]
    low, high = _percentiles(values, confidence)
    return Interval(_mean_of_rows(rows), low, high)


def bootstrap_difference(rows: list[list[float]], base: list[list[float]], *, aligned: bool = True,
                         reps: int = BOOTSTRAP_REPS, seed: int = BOOTSTRAP_SEED,
                         confidence: float = 0.95) -> tuple[Interval, bool]:
    """Mean of `rows` minus mean of `base` (0-100 points) with a bootstrap interval, and whether it was paired:
    when both are `aligned` on the same problems, each resample draws the problems once for both (a paired
    comparison: the noise of which problems the test set happens to hold cancels); otherwise each seed's
    problems are resampled on their own."""
    if not rows or not base or not all(rows) or not all(base):
        raise ValueError("bootstrap_difference needs scores on both sides")
    rng = random.Random(seed)
    ours, theirs = _sampler(rows, rng), _sampler(base, rng)
    paired = aligned and _aligned(rows, base)
    m = len(rows[0])
    values = []
    for _ in range(reps):
        problems = rng.choices(range(m), k=m) if paired else None
        values.append(ours(problems) - theirs(problems))
    low, high = _percentiles(values, confidence)
    return Interval(_mean_of_rows(rows) - _mean_of_rows(base), low, high), paired
