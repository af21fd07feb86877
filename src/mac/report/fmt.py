"""Formatting helpers shared by the terminal and HTML reports. Values in, plain (unescaped) text out."""

from __future__ import annotations

import re
from typing import Any

from mac.report.compare import BaselineComparison, ScoreStats

DASH = "—"


def pct(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def mean_std(stats: ScoreStats) -> str:
    if stats.mean is None:
        return DASH
    return f"{stats.mean:.1f}" + (f" ± {stats.std:.1f}" if stats.std is not None else "")


def ci(stats: ScoreStats) -> str:
    if stats.ci95_low is None or stats.ci95_high is None:
        return DASH
    return f"[{stats.ci95_low:.1f}, {stats.ci95_high:.1f}]"


def difference_text(comp: BaselineComparison) -> str:
    """The comparison with a baseline in words: "+12.3 points [4.1, 20.2], paired on the same problems"."""
    if comp.difference is None or comp.diff_ci95_low is None or comp.diff_ci95_high is None:
        return "no comparison (no scores on one side)"
    how = "paired on the same problems" if comp.paired else "unpaired (no per-problem scores on one side)"
    return f"{comp.difference:+.1f} points [{comp.diff_ci95_low:+.1f}, {comp.diff_ci95_high:+.1f}], {how}"


def not_counted(config: Any) -> list[str]:
    """Why some of a configuration's trials are not in its mean, e.g. ["2 infrastructure errors", "1 running"]."""
    counts = ((config.running, "running"), (config.interrupted, "interrupted"), (config.failed, "failed"),
              (config.infrastructure_errors, "infrastructure error"), (config.excluded_cheating, "excluded"))
    return [f"{n} {what}" + ("s" if n > 1 and what == "infrastructure error" else "") for n, what in counts if n]


def fraction(stats: ScoreStats) -> str:
    return DASH if stats.mean is None else f"{100 * stats.mean:.0f}%"


def tokens(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 10_000:
        return f"{n / 1e3:.0f}k"
    return str(n)


def money(usd: float) -> str:
    return "$0" if usd == 0 else (f"${usd:.4f}" if usd < 0.01 else f"${usd:.2f}")


def meta_usage(usage) -> str:
    """A meta-agent's own model use (a MetaAgentUsage, or None) in one short line."""
    if usage is None:
        return DASH
    cost = "cost not reported" if usage.cost_usd is None else money(usage.cost_usd)
    return f"{tokens(usage.input_tokens)} in / {tokens(usage.output_tokens)} out, {cost}"


_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")


def _safe(part: str) -> str:
    return _UNSAFE_ID.sub("_", str(part))[:128]


def trial_anchor(job: str, trial: str) -> str:
    """The id of a trial's section: "t:JOB/TRIAL" (job and trial names never contain ':' or '/')."""
    return f"t:{_safe(job)}/{_safe(trial)}"


def evidence_anchor(job: str, trial: str, evidence_id: str) -> str:
    return f"{trial_anchor(job, trial)}:{_safe(evidence_id)}"
