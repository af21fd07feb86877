"""The HTML section of one trial: facts, learning curve, timeline, integrity findings with their evidence,
the artifact source (highlighted) and the trajectory logs. Everything from the trial folder is escaped."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from mac.report.aggregate import TrialRow, phase_usage
from mac.report.fmt import DASH, evidence_anchor, money, pct, tokens, trial_anchor
from mac.report.highlight import highlight_python
from mac.report.load import TextFile, TrialView
from mac.report.svg import Span, fmt_duration, learning_curve, timeline

_FINDING_TEXT_KEYS = ("title", "message", "summary", "detail", "description")
_FINDING_META_KEYS = ("severity", "rule", "kind", "category", "source")
_EVIDENCE_KEYS = ("evidence", "evidence_ids")


def trial_section(view: TrialView, row: TrialRow) -> str:
    r = view.result
    sid = trial_anchor(r.job, r.trial)
    badges = _badge("SIMULATED", "sim") if r.simulated else ""
    badges += _badge(r.integrity_verdict, r.integrity_verdict) if r.integrity_verdict else _badge("unaudited", "")
    parts = [
        f'<section class="trial" id="{escape(sid)}">',
        f'<h2><a class="back" href="#">&larr; leaderboard</a> Trial {escape(r.job)} / {escape(r.trial)} {badges}</h2>',
        _facts(view, row),
        "<h3>Learning curve</h3>",
        learning_curve(view.dev_points, test_accuracy=row.test_accuracy, freeze_sec=_freeze_sec(view),
                       limit_sec=r.budget_use.dev_time_limit_sec or None),
        '<p class="legend">Dots: dev evaluations (hollow: first_k subset; red: failed); dashed: best so far on the '
        'full dev split; diamond: the frozen artifact\'s test score; dotted vertical line: the time limit.</p>',
        "<h3>Timeline</h3>", _timeline(view), _dev_table(view),
        "<h3>Integrity</h3>", _integrity(view),
        "<h3>Artifact</h3>", _files(view.artifact, code=True, empty="no artifact files"),
        "<h3>Trajectory</h3>", _files(view.trajectory, code=False, empty="no trajectory logs"),
    ]
    if view.problems:
        parts.append('<ul class="problems">' + "".join(f"<li>{escape(p)}</li>" for p in view.problems) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def _badge(text: str, css: str) -> str:
    return f'<span class="badge {escape(css)}">{escape(text)}</span>'


def _facts(view: TrialView, row: TrialRow) -> str:
    r = view.result
    test = f"{r.test.accuracy:.1f}% ({r.test.correct}/{r.test.total})" if r.test else DASH
    best = DASH
    if r.best_dev:
        best = (f"{r.best_dev.accuracy:.1f}% ({r.best_dev.correct}/{r.best_dev.total}) at "
                f"{fmt_duration(r.best_dev.time_sec)}, run {r.best_dev.run_id or DASH}")
    usage = "; ".join(f"{phase}: {u.requests} requests, {tokens(u.input_tokens)} in / {tokens(u.output_tokens)} out, "
                      f"{money(u.cost_usd)}" + (f", {u.refused} refused" if u.refused else "")
                      for phase, u in phase_usage(view).items()) or DASH
    facts: list[tuple[str, Any]] = [
        ("domain", r.domain), ("meta-agent", r.meta_agent), ("task model", r.task_model + (" (simulated)" if
                                                                                          r.simulated else "")),
        ("seed", r.seed), ("status", r.status), ("test score", test), ("best dev score", best),
        ("best dev → test gap", pct(row.dev_test_gap)), ("dev evaluations", row.dev_evals),
        ("development time", f"{fmt_duration(r.budget_use.dev_time_sec)} of "
                             f"{fmt_duration(r.budget_use.dev_time_limit_sec)}"),
        ("model usage", usage), ("artifact", f"{r.artifact_files} files, {r.artifact_bytes} bytes, sha256 "
                                             f"{r.artifact_sha256 or DASH}"),
        ("sandbox", ", ".join(f"{k}={v}" for k, v in r.sandbox.items()) or DASH),
    ]
    if r.meta_agent_exit:
        e = r.meta_agent_exit
        facts.append(("meta-agent exit", f"code {e.returncode}, {fmt_duration(e.wall_sec)}"
                                         + (", timed out" if e.timed_out else "")
                                         + (f", killed by {e.killed_by}" if e.killed_by else "")))
    if r.reason:
        facts.append(("reason", r.reason))
    if r.error:
        facts.append(("error", f"{r.error.type}: {r.error.message}"))
    return '<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts) + "</dl>"


def _freeze_sec(view: TrialView) -> float | None:
    """Seconds from the trial's start to the end of development (where the test score is drawn)."""
    r = view.result
    for name in ("develop", "dev", "development"):
        timing = r.timings.get(name)
        if timing is not None and timing.finished_at is not None:
            return timing.finished_at - r.started_at
    return r.budget_use.dev_time_sec or None


def _timeline(view: TrialView) -> str:
    r = view.result
    spans = [Span(name, t.started_at - r.started_at, None if t.finished_at is None else t.finished_at - r.started_at,
                  error=t.error is not None)
             for name, t in sorted(r.timings.items(), key=lambda kv: kv[1].started_at)]
    ticks = [(p.time_sec, f"{fmt_duration(p.time_sec)}: dev {p.accuracy:.1f}%") for p in view.dev_points]
    if not spans and not ticks:
        return '<p class="meta">no phase timings yet</p>'
    rows = "".join(
        f"<tr><td>{escape(s.label)}</td><td class='num'>{fmt_duration(s.start_sec)}</td>"
        f"<td class='num'>{fmt_duration(s.end_sec - s.start_sec) if s.end_sec is not None else 'running'}</td>"
        f"<td>{escape(_phase_error(view, s.label))}</td></tr>" for s in spans)
    table = ("<table><tr><th>phase</th><th class='num'>start</th><th class='num'>duration</th><th>error</th></tr>"
             + rows + "</table>") if spans else ""
    return timeline(spans, ticks) + table


def _phase_error(view: TrialView, name: str) -> str:
    error = view.result.timings[name].error
    return f"{error.type}: {error.message}" if error else ""


def _dev_table(view: TrialView) -> str:
    if not view.dev_points:
        return ""
    rows = "".join(
        f"<tr><td class='num'>{fmt_duration(p.time_sec)}</td><td class='num'>{p.accuracy:.1f}</td>"
        f"<td class='num'>{p.correct}/{p.total}</td><td class='num'>{p.first_k or 'all'}</td>"
        f"<td class='num'>{fmt_duration(p.wall_sec)}</td>"
        f"<td>{'ok' if p.success else 'failed'}{', timed out' if p.timed_out else ''}</td>"
        f"<td>{escape(p.run_id)}</td></tr>" for p in sorted(view.dev_points, key=lambda p: p.time_sec))
    return ("<details><summary>Dev evaluations</summary><table><tr><th class='num'>at</th><th class='num'>accuracy"
            "</th><th class='num'>correct</th><th class='num'>first_k</th><th class='num'>took</th><th>status</th>"
            f"<th>run</th></tr>{rows}</table></details>")


def _findings(view: TrialView) -> list[dict[str, Any]]:
    found = view.result.findings or view.audit.get("findings") or []
    return [f for f in found if isinstance(f, dict)]


def _integrity(view: TrialView) -> str:
    r = view.result
    known = {str(ev.get("id")) for ev in view.evidence}
    out = [f"<p>Verdict: {_badge(r.integrity_verdict or 'not audited', r.integrity_verdict or '')} "
           f"&middot; {len(view.evidence)} evidence records</p>"]
    for finding in _findings(view):
        out.append(_finding(view, finding, known))
    out.append(_evidence_table(view))
    return "\n".join(out)


def _finding(view: TrialView, finding: dict[str, Any], known: set[str]) -> str:
    r = view.result
    text = next((str(finding[k]) for k in _FINDING_TEXT_KEYS if finding.get(k)), "")
    meta = " ".join(f"[{finding[k]}]" for k in _FINDING_META_KEYS if finding.get(k))
    cited = []
    for key in _EVIDENCE_KEYS:
        value = finding.get(key)
        cited.extend([value] if isinstance(value, str) else value if isinstance(value, list) else [])
    links = ", ".join(
        f'<a href="#{escape(evidence_anchor(r.job, r.trial, str(ev)))}">{escape(str(ev))}</a>' if str(ev) in known
        else escape(str(ev)) for ev in cited[:50])
    rest = {k: v for k, v in finding.items() if k not in _FINDING_TEXT_KEYS + _FINDING_META_KEYS + _EVIDENCE_KEYS}
    severity = str(finding.get("severity", "")).lower()
    return (f'<div class="finding {escape(severity)}"><strong>{escape(meta)}</strong> {escape(text)}'
            + (f"<br>evidence: {links}" if links else "")
            + (f'<br><span class="meta">{escape(_compact(rest))}</span>' if rest else "") + "</div>")


def _evidence_table(view: TrialView) -> str:
    if not view.evidence:
        return '<p class="meta">no evidence recorded</p>'
    r = view.result
    rows = []
    for ev in view.evidence:
        ev_id = str(ev.get("id", ""))
        when = ev.get("time")
        at = fmt_duration(when - r.started_at) if isinstance(when, (int, float)) else DASH
        detail = {k: v for k, v in ev.items() if k not in ("id", "time", "source", "kind", "label")}
        rows.append(f'<tr id="{escape(evidence_anchor(r.job, r.trial, ev_id))}"><td>{escape(ev_id)}</td>'
                    f"<td class='num'>{at}</td><td>{escape(str(ev.get('source', '')))}</td>"
                    f"<td>{escape(str(ev.get('kind', '')))}</td><td>{escape(str(ev.get('label', '')))}</td>"
                    f"<td>{escape(_compact(detail))}</td></tr>")
    return ("<details open><summary>Evidence</summary><div class='scroll'><table><tr><th>id</th><th class='num'>at"
            "</th><th>source</th><th>kind</th><th>label</th><th>detail</th></tr>" + "".join(rows)
            + "</table></div></details>")


def _compact(obj: Any, limit: int = 600) -> str:
    text = json.dumps(obj, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …"


def _files(files: list[TextFile], *, code: bool, empty: str) -> str:
    if not files:
        return f'<p class="meta">{escape(empty)}</p>'
    out = []
    for i, f in enumerate(files):
        note = " (binary, not shown)" if f.binary else (" (truncated)" if f.truncated else "")
        body = ""
        if not f.binary:
            body = highlight_python(f.text) if code and f.path.endswith(".py") else escape(f.text)
            body = f"<pre>{body}</pre>"
        opened = " open" if i == 0 and code else ""
        out.append(f"<details{opened}><summary>{escape(f.path)} <span class='meta'>{f.size} bytes{note}</span>"
                   f"</summary>{body}</details>")
    return "\n".join(out)
