"""The leaderboard: trials grouped by (domain, meta-agent, task model), as data for the terminal, JSON and HTML.

Which trials count towards a configuration's test mean: those with a test score and status "completed" (a
missing or broken artifact scores 0 and counts), except trials the auditor judged CHEATING unless
`include_cheating` is set. An "infrastructure_error" trial (too many task-model calls failed upstream) keeps its
score for inspection but never counts; running, interrupted and failed trials have no score yet. The
statistics and the baseline comparisons are mac.report.compare's; `Report.method` states them in one line.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from mac.config import Quota
from mac.kinds import TrialStatus, Verdict
from mac.records import Usage
from mac.report.baselines import BaselineRow, comparable_rows
from mac.report.compare import METHOD, BaselineComparison, ScoreRows, ScoreStats, compare, score_rows, scored_stats
from mac.report.load import TrialView
from mac.report.stats import summarize
from mac.store.models import MetaAgentUsage

__all__ = ["BaselineComparison", "ConfigRow", "Report", "ScoreStats", "TrialRow", "build_report", "config_row",
           "phase_usage", "quota_fraction", "trial_row"]

REPORT_VERSION = "mac-report-1"
VERDICTS = ("CLEAN", "SUSPICIOUS", "CHEATING")


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
    status: TrialStatus
    test_accuracy: float | None = None
    best_dev_accuracy: float | None = None
    dev_test_gap: float | None = None
    """Best dev accuracy minus test accuracy (positive: the dev score overstated the artifact)."""
    dev_evals: int = 0
    integrity_verdict: Verdict | None = None
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
    infrastructure_errors: int = 0
    """Trials whose task model failed upstream too often: scores kept, shown, never in the means."""
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
    method: str = METHOD
    """How the statistics were made, in one line."""
    configs: list[ConfigRow] = Field(default_factory=list)
    trials: list[TrialRow] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


def trial_row(view: TrialView, include_cheating: bool) -> TrialRow:
    r = view.result
    test = r.test.accuracy if r.test is not None and r.status in ("completed", "infrastructure_error") else None
    best_dev = r.best_dev.accuracy if r.best_dev is not None else None
    limit = r.budget_use.dev_time_limit_sec
    return TrialRow(
        job=r.job, trial=r.trial, domain=r.domain, meta_agent=r.meta_agent_label, task_model=r.task_model, seed=r.seed,
        simulated=r.simulated, status=r.status, test_accuracy=test, best_dev_accuracy=best_dev,
        dev_test_gap=None if test is None or best_dev is None else best_dev - test,
        dev_evals=max(r.dev_evals, len(view.dev_points)), integrity_verdict=r.integrity_verdict,
        counted=test is not None and r.status == "completed" and (include_cheating or r.integrity_verdict != "CHEATING"),
        reason=r.reason,
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
                 include_cheating: bool = False, jobs: list[str] | None = None,
                 unreadable: list[str] | None = None) -> Report:
    """Aggregate trials into the leaderboard (sorted by domain, then best mean test score first). `unreadable`
    lists folders that could not be read as trials (mac.report.load.scan_job); they join `problems`."""
    rows = [trial_row(v, include_cheating) for v in views]
    groups: dict[tuple[str, str, str], list[tuple[TrialView, TrialRow]]] = {}
    for view, row in zip(views, rows):
        groups.setdefault((row.domain, row.meta_agent, row.task_model), []).append((view, row))
    configs = [config_row(members, baselines or []) for members in groups.values()]
    configs.sort(key=lambda c: (c.domain, -(c.test.mean if c.test.mean is not None else -1.0), c.meta_agent,
                                c.task_model))
    problems = list(unreadable or []) + [f"{v.key}: {p}" for v in views for p in v.problems]
    return Report(jobs=sorted(set(jobs or [r.job for r in rows])), simulated=any(r.simulated for r in rows),
                  include_cheating=include_cheating, configs=configs, trials=rows, problems=problems)


def config_row(members: list[tuple[TrialView, TrialRow]], baselines: list[BaselineRow]) -> ConfigRow:
    rows = [row for _, row in members]
    first = rows[0]
    counted = [(v, r) for v, r in members if r.counted]
    summary = summarize([r.test_accuracy for _, r in counted])
    runs = _score_rows([v for v, _ in counted])
    ranked = sorted((r for _, r in counted), key=lambda r: r.test_accuracy)
    totals = {v.result.test.total for v, _ in counted if v.result.test is not None}
    simulated = any(r.simulated for r in rows)
    seeds = {v.result.test_seed_fingerprint for v, _ in members}
    found = comparable_rows(baselines, domain=first.domain, task_model=first.task_model, simulated=simulated,
                            total=totals.pop() if len(totals) == 1 else None,
                            test_seed=seeds.pop() if len(seeds) == 1 else None)
    scores = {kind: summarize([b.accuracy for b in found[kind]]) for kind in found}
    fracs = [r.dev_time_frac for r in rows if r.dev_time_frac is not None]
    return ConfigRow(
        domain=first.domain, meta_agent=first.meta_agent, task_model=first.task_model, simulated=simulated,
        trials=len(rows), counted=len(counted), running=sum(r.status == "running" for r in rows),
        interrupted=sum(r.status == "interrupted" for r in rows), failed=sum(r.status == "failed" for r in rows),
        infrastructure_errors=sum(r.status == "infrastructure_error" for r in rows),
        excluded_cheating=sum(r.status == "completed" and r.test_accuracy is not None and not r.counted
                              for r in rows),
        test=scored_stats(summary, runs),
        best=ranked[-1] if ranked else None, worst=ranked[0] if ranked else None,
        dev_test_gap=ScoreStats.of(summarize([r.dev_test_gap for _, r in counted if r.dev_test_gap is not None])),
        baselines=compare(len(counted), runs, found, scores), verdicts=_verdicts(rows),
        usage=_usage([v for v, _ in members]), meta_agent_usage=MetaAgentUsage.total([r.meta_agent_usage for r in rows]),
        dev_time_frac=ScoreStats.of(summarize(fracs)),
        dev_quota_frac=ScoreStats.of(summarize([r.dev_quota_frac for r in rows if r.dev_quota_frac is not None])),
        dev_evals_mean=sum(r.dev_evals for r in rows) / len(rows))


def _score_rows(views: list[TrialView]) -> ScoreRows | None:
    return score_rows([(v.test_scores, v.result.test.correct, v.result.test.total) for v in views
                       if v.result.test is not None])


def _verdicts(rows: list[TrialRow]) -> dict[str, int]:
    counts = {v: 0 for v in VERDICTS}
    counts["unaudited"] = 0
    for r in rows:
        verdict = r.integrity_verdict if r.integrity_verdict in VERDICTS else "unaudited"
        counts[verdict] += 1
    return counts


def _usage(views: list[TrialView]) -> dict[str, Usage]:
    sums: dict[str, Usage] = {}
    for view in views:
        for phase, usage in phase_usage(view).items():
            for name in ("total", phase):
                sums[name] = sums.get(name, Usage()).plus(usage)
    return sums
