"""The leaderboard: trials grouped by (domain, meta-agent, task model), as data for the terminal, JSON and HTML.

Which trials count towards a configuration's test mean: those with a test score (status "completed"; a
missing or broken artifact scores 0 and counts), except trials the auditor judged CHEATING unless
`include_cheating` is set. Running and failed trials are counted but have no score yet.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, Field

from mac.config import Quota
from mac.records import Usage
from mac.report.baselines import BaselineRow, baseline_scores
from mac.report.load import TrialView
from mac.report.stats import Summary, summarize
from mac.store.models import MetaAgentUsage

REPORT_VERSION = "mac-report-1"
VERDICTS = ("CLEAN", "SUSPICIOUS", "CHEATING")


class ScoreStats(BaseModel):
    """Statistics over trials or seeds; std and the 95% CI (Student's t) need at least two values."""

    n: int = 0
    mean: float | None = None
    std: float | None = None
    ci95_low: float | None = None
    ci95_high: float | None = None
    min: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, summary: Summary, *, accuracy: bool = False) -> "ScoreStats":
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
    beats: bool | None = None
    """The configuration's mean test score is above the baseline's mean (None: nothing to compare)."""
    clearly_beats: bool | None = None
    """The configuration's 95% CI lies entirely above the baseline's mean."""


class TrialRow(BaseModel):
    """One trial as the leaderboard sees it."""

    job: str
    trial: str
    domain: str
    meta_agent: str
    """With its variant: "baseline (strong)", "claude-code (MODEL)" (TrialResult.meta_agent_label)."""
    task_model: str
    seed: int
    simulated: bool
    status: str
    test_accuracy: float | None = None
    best_dev_accuracy: float | None = None
    dev_test_gap: float | None = None
    """Best dev accuracy minus test accuracy (positive: the dev score overstated the artifact)."""
    dev_evals: int = 0
    integrity_verdict: str | None = None
    counted: bool = False
    """Whether it counts towards its configuration's test statistics."""
    reason: str | None = None
    cost_usd: float = 0.0
    meta_agent_usage: MetaAgentUsage | None = None
    """The meta-agent's own model use (real tools that report it)."""
    dev_time_frac: float | None = None
    """Fraction of the development time budget used."""
    dev_quota_frac: float | None = None
    """Largest fraction of any limited dev quota (requests, tokens, cost) used."""


class ConfigRow(BaseModel):
    """One line of the leaderboard."""

    domain: str
    meta_agent: str
    task_model: str
    simulated: bool
    trials: int
    counted: int
    running: int = 0
    interrupted: int = 0
    """Stopped by Ctrl-C or SIGTERM, waiting for `mac run --resume`."""
    failed: int = 0
    excluded_cheating: int = 0
    test: ScoreStats
    best: TrialRow | None = None
    worst: TrialRow | None = None
    dev_test_gap: ScoreStats
    baselines: list[BaselineComparison] = Field(default_factory=list)
    verdicts: dict[str, int] = Field(default_factory=dict)
    """CLEAN / SUSPICIOUS / CHEATING / unaudited counts over all trials."""
    usage: dict[str, Usage] = Field(default_factory=dict)
    """Gateway usage summed over trials, per phase ("dev", "verify") and "total"."""
    meta_agent_usage: MetaAgentUsage | None = None
    """The meta-agents' own model use summed over the trials that report it."""
    dev_time_frac: ScoreStats
    """Fraction of the development time budget used (0-1), over trials that report it."""
    dev_quota_frac: ScoreStats
    """Fraction of the dev model quota used (0-1), over trials with a limited quota."""
    dev_evals_mean: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.domain, self.meta_agent, self.task_model)


class Report(BaseModel):
    version: str = REPORT_VERSION
    generated_at: float = Field(default_factory=time.time)
    jobs: list[str] = Field(default_factory=list)
    simulated: bool = False
    """True when any trial used the simulated task model: its scores say nothing about real models."""
    include_cheating: bool = False
    configs: list[ConfigRow] = Field(default_factory=list)
    trials: list[TrialRow] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


def trial_row(view: TrialView, include_cheating: bool) -> TrialRow:
    r = view.result
    test = r.test.accuracy if r.test is not None and r.status == "completed" else None
    best_dev = r.best_dev.accuracy if r.best_dev is not None else None
    limit = r.budget_use.dev_time_limit_sec
    return TrialRow(
        job=r.job, trial=r.trial, domain=r.domain, meta_agent=r.meta_agent_label, task_model=r.task_model, seed=r.seed,
        simulated=r.simulated, status=r.status, test_accuracy=test, best_dev_accuracy=best_dev,
        dev_test_gap=None if test is None or best_dev is None else best_dev - test,
        dev_evals=max(r.dev_evals, len(view.dev_points)), integrity_verdict=r.integrity_verdict,
        counted=test is not None and (include_cheating or r.integrity_verdict != "CHEATING"), reason=r.reason,
        cost_usd=sum(u.cost_usd for u in phase_usage(view).values()), meta_agent_usage=r.meta_agent_usage,
        dev_time_frac=r.budget_use.dev_time_sec / limit if limit > 0 else None,
        dev_quota_frac=quota_fraction(r.budget_use.dev_quota, r.budget_use.dev_usage))


def phase_usage(view: TrialView) -> dict[str, Usage]:
    """Gateway usage per phase: result.usage, else the budget's dev and verify usage."""
    if view.result.usage:
        return view.result.usage
    budget = view.result.budget_use
    return {"dev": budget.dev_usage, "verify": budget.verify_usage}


def quota_fraction(quota: Quota, usage: Usage) -> float | None:
    """max(used / limit) over the limits that are set (None: an unlimited quota)."""
    used = {"requests": usage.requests, "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
            "cost_usd": usage.cost_usd}
    fracs = [used[name] / limit for name in used if (limit := getattr(quota, name)) is not None and limit > 0]
    return max(fracs) if fracs else None


def build_report(views: list[TrialView], baselines: list[BaselineRow] | None = None, *,
                 include_cheating: bool = False, jobs: list[str] | None = None) -> Report:
    """Aggregate trials into the leaderboard (sorted by domain, then best mean test score first)."""
    rows = [trial_row(v, include_cheating) for v in views]
    groups: dict[tuple[str, str, str], list[tuple[TrialView, TrialRow]]] = {}
    for view, row in zip(views, rows):
        groups.setdefault((row.domain, row.meta_agent, row.task_model), []).append((view, row))
    configs = [config_row(members, baselines or []) for members in groups.values()]
    configs.sort(key=lambda c: (c.domain, -(c.test.mean if c.test.mean is not None else -1.0), c.meta_agent,
                                c.task_model))
    problems = [f"{v.key}: {p}" for v in views for p in v.problems]
    return Report(jobs=sorted(set(jobs or [r.job for r in rows])), simulated=any(r.simulated for r in rows),
                  include_cheating=include_cheating, configs=configs, trials=rows, problems=problems)


def config_row(members: list[tuple[TrialView, TrialRow]], baselines: list[BaselineRow]) -> ConfigRow:
    rows = [row for _, row in members]
    first = rows[0]
    counted = [r for r in rows if r.counted]
    test = summarize([r.test_accuracy for r in counted])
    ranked = sorted(counted, key=lambda r: r.test_accuracy)
    totals = {v.result.test.total for v, r in members if r.counted and v.result.test is not None}
    simulated = any(r.simulated for r in rows)
    seeds = {v.result.test_seed_fingerprint for v, _ in members}
    comparisons = _compare(test, baseline_scores(baselines, domain=first.domain, task_model=first.task_model,
                                                 simulated=simulated, total=totals.pop() if len(totals) == 1 else None,
                                                 test_seed=seeds.pop() if len(seeds) == 1 else None))
    fracs = [r.dev_time_frac for r in rows if r.dev_time_frac is not None]
    return ConfigRow(
        domain=first.domain, meta_agent=first.meta_agent, task_model=first.task_model, simulated=simulated,
        trials=len(rows), counted=len(counted), running=sum(r.status == "running" for r in rows),
        interrupted=sum(r.status == "interrupted" for r in rows), failed=sum(r.status == "failed" for r in rows),
        excluded_cheating=sum(r.test_accuracy is not None and not r.counted for r in rows),
        test=ScoreStats.of(test, accuracy=True),
        best=ranked[-1] if ranked else None, worst=ranked[0] if ranked else None,
        dev_test_gap=ScoreStats.of(summarize([r.dev_test_gap for r in counted if r.dev_test_gap is not None])),
        baselines=comparisons, verdicts=_verdicts(rows), usage=_usage([v for v, _ in members]),
        meta_agent_usage=MetaAgentUsage.total([r.meta_agent_usage for r in rows]),
        dev_time_frac=ScoreStats.of(summarize(fracs)),
        dev_quota_frac=ScoreStats.of(summarize([r.dev_quota_frac for r in rows if r.dev_quota_frac is not None])),
        dev_evals_mean=sum(r.dev_evals for r in rows) / len(rows))


def _compare(test: Summary, scores: dict[str, Summary]) -> list[BaselineComparison]:
    out = []
    for kind, base in scores.items():
        beats = clearly = None
        if test.mean is not None and base.mean is not None:
            beats = test.mean > base.mean
            clearly = test.ci_low > base.mean if test.ci_low is not None else None
        out.append(BaselineComparison(kind=kind, score=ScoreStats.of(base, accuracy=True), beats=beats,
                                      clearly_beats=clearly))
    return out


def _verdicts(rows: list[TrialRow]) -> dict[str, int]:
    counts = {v: 0 for v in VERDICTS}
    counts["unaudited"] = 0
    for r in rows:
        verdict = r.integrity_verdict if r.integrity_verdict in VERDICTS else "unaudited"
        counts[verdict] += 1
    return counts


def _usage(views: list[TrialView]) -> dict[str, Usage]:
    sums: dict[str, dict[str, Any]] = {}
    for view in views:
        for phase, usage in phase_usage(view).items():
            for name in ("total", phase):
                acc = sums.setdefault(name, {"requests": 0, "input_tokens": 0, "output_tokens": 0,
                                             "cost_usd": 0.0, "refused": 0})
                for field in acc:
                    acc[field] += getattr(usage, field)
    return {name: Usage(**values) for name, values in sums.items()}
