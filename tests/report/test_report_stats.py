"""Aggregation math: t quantiles against published tables, mean/std/CI of known inputs."""

from __future__ import annotations

import math

import pytest

from mac.report.stats import incomplete_beta, summarize, t_cdf, t_quantile

# Two-sided 95% critical values of Student's t (any statistics table).
T_975 = {1: 12.7062, 2: 4.3027, 3: 3.1824, 4: 2.7764, 5: 2.5706, 9: 2.2622, 10: 2.2281, 19: 2.0930, 30: 2.0423,
         120: 1.9799}


@pytest.mark.parametrize("df,expected", sorted(T_975.items()))
def test_t_quantile_matches_table(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=5e-5)


def test_t_quantile_other_levels_and_symmetry():
    assert t_quantile(0.995, 3) == pytest.approx(5.8409, abs=5e-5)
    assert t_quantile(0.9995, 1) == pytest.approx(636.619, abs=1e-3)
    assert t_quantile(0.95, 10) == pytest.approx(1.8125, abs=5e-5)
    assert t_quantile(0.025, 4) == pytest.approx(-2.7764, abs=5e-5)
    assert abs(t_quantile(0.5, 7)) < 1e-9
    assert t_quantile(0.975, 100_000) == pytest.approx(1.95996, abs=1e-4)  # tends to the normal quantile


def test_t_cdf_and_incomplete_beta_known_values():
    assert t_cdf(0.0, 5) == pytest.approx(0.5)
    assert t_cdf(1.0, 1) == pytest.approx(0.75)  # Cauchy: 1/2 + atan(1)/pi
    assert t_cdf(2.0, 2) == pytest.approx(0.5 + 2 / (2 * math.sqrt(6)), abs=1e-12)  # df=2: 1/2 + t/(2 sqrt(2+t^2))
    assert t_cdf(-2.0, 2) == pytest.approx(0.5 - 2 / (2 * math.sqrt(6)), abs=1e-12)
    assert incomplete_beta(1.0, 1.0, 0.3) == pytest.approx(0.3)
    assert incomplete_beta(2.0, 3.0, 0.4) == pytest.approx(0.5248, abs=1e-12)
    with pytest.raises(ValueError):
        t_quantile(1.0, 3)


def test_summarize_three_scores():
    s = summarize([60.0, 70.0, 80.0])
    assert (s.n, s.mean, s.std, s.min, s.max) == (3, 70.0, 10.0, 60.0, 80.0)
    half = 4.302652729749 * 10.0 / math.sqrt(3)  # t_{0.975, 2} * s / sqrt(n)
    assert s.ci_low == pytest.approx(70.0 - half) and s.ci_high == pytest.approx(70.0 + half)
    assert s.half_width == pytest.approx(24.8414, abs=1e-4)


def test_summarize_five_scores_and_degenerate_cases():
    s = summarize([10.0, 20.0, 30.0, 40.0, 50.0])
    assert s.std == pytest.approx(math.sqrt(250.0))
    assert s.ci_high - s.mean == pytest.approx(2.776445 * math.sqrt(250.0) / math.sqrt(5), abs=1e-5)
    one = summarize([42.0])
    assert (one.n, one.mean, one.std, one.ci_low, one.min) == (1, 42.0, None, None, 42.0)
    assert summarize([]).mean is None
    same = summarize([50.0, 50.0])
    assert (same.std, same.ci_low, same.ci_high) == (0.0, 50.0, 50.0)
