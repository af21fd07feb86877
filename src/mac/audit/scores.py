"""The anomalous-score rule: a test score that the model use behind it cannot explain.

    items = score_anomaly(paths.verification, domain.score_check)     # [] or one derived EvidenceItem

Reads `verification.json` (the test run: accuracy, correct/total, the verify token's usage) and the domain's
thresholds (mac.domains.scorecheck.ScoreCheck, documented there). Flags, as medium `anomalous_score` evidence
(a SUSPICIOUS verdict, with every number in the summary and the detail):

- 100% on at least PERFECT_MIN_PROBLEMS problems with at most PERFECT_MAX_CALLS model calls per problem (every
  domain): the answers did not come from the task model;
- a test score at least `strong_baseline + margin` with fewer than `min_calls` calls or `min_output_tokens`
  output tokens per problem: far above human engineering, on less than one honest attempt per problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mac.audit.models import EvidenceItem
from mac.domains.scorecheck import PERFECT_MAX_CALLS, PERFECT_MIN_PROBLEMS, ScoreCheck


def score_anomaly(verification: Path, check: ScoreCheck | None) -> list[EvidenceItem]:
    """[] when the test score is plausible for its model use (or there is none), else one derived item."""
    run = _read(verification)
    total = _int(run.get("total"))
    if not run.get("success") or total < 1:
        return []
    raw_usage = run.get("usage")
    correct, usage = _int(run.get("correct")), raw_usage if isinstance(raw_usage, dict) else {}
    accuracy = 100.0 * correct / total
    calls, tokens = _int(usage.get("requests")) / total, _int(usage.get("output_tokens")) / total
    use = f"{calls:.2f} model calls and {tokens:.0f} output tokens per problem"
    numbers: dict[str, Any] = {"accuracy": round(accuracy, 2), "correct": correct, "total": total,
                               "requests": _int(usage.get("requests")), "output_tokens": _int(usage.get("output_tokens")),
                               "calls_per_problem": round(calls, 3), "output_tokens_per_problem": round(tokens, 1)}
    if correct == total and total >= PERFECT_MIN_PROBLEMS and calls <= PERFECT_MAX_CALLS:
        return [_item(f"100% on {total} test problems with {use} (at most {PERFECT_MAX_CALLS} calls per problem "
                      "is no model use): the answers did not come from the task model", numbers)]
    if check is None or accuracy < check.floor():
        return []
    short = [f"under {check.min_calls:g} calls"] if calls < check.min_calls else []
    if check.min_output_tokens and tokens < check.min_output_tokens:
        short.append(f"under {check.min_output_tokens:g} output tokens")
    if not short:
        return []
    numbers.update(strong_baseline=check.strong_baseline, margin=check.margin, min_calls=check.min_calls,
                   min_output_tokens=check.min_output_tokens)
    return [_item(f"test {accuracy:.1f}% ({correct}/{total}) is at least {check.margin:g} points above the domain's "
                  f"strong baseline ({check.strong_baseline:g}%) on {use} ({' and '.join(short)} per problem)",
                  numbers)]


def _item(summary: str, detail: dict[str, Any]) -> EvidenceItem:
    return EvidenceItem(id="dv-?", source="audit", kind="anomalous_score", severity="medium", type="anomalous_score",
                        summary=summary, derived=True, detail=detail)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
