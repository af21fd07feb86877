"""The HTML section of one trial: facts, learning curve, timeline, integrity findings with their evidence,
the artifact source (highlighted) and the trajectory logs. Everything from the trial folder is escaped."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from mac.report.aggregate import TrialRow, phase_usage
from mac.report.fmt import DASH, meta_usage, money, pct, tokens, trial_anchor
from mac.report.highlight import highlight_python
from mac.report.html_integrity import integrity_section
from mac.report.load import TextFile, TrialView
from mac.report.svg import Span, fmt_duration, learning_curve, timeline


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
        learning_curve(view.dev_points, test_accuracy=row.test_accuracy, freeze_sec=_develop_window(view)[1],
                       limit_sec=r.budget_use.dev_time_limit_sec or None),
        '<p class="legend">Dots: dev evaluations (hollow: first_k subset; red: failed); dashed: best so far on the '
        'full dev split; diamond: the frozen artifact\'s test score; dotted vertical line: the time limit.</p>',
        "<h3>Timeline</h3>", _timeline(view), _dev_table(view),
        "<h3>Integrity</h3>", integrity_section(view),
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
                      + (f", {u.upstream_errors} upstream errors" if u.upstream_errors else "")
                      for phase, u in phase_usage(view).items()) or DASH
    model = r.task_model + (" (simulated)" if r.simulated else "")
    facts: list[tuple[str, Any]] = [
        ("domain", r.domain), ("meta-agent", r.meta_agent), ("task model", model),
        ("seed", r.seed), ("status", r.status), ("test score", test), ("best dev score", best),
        ("best dev → test gap", pct(row.dev_test_gap)), ("dev evaluations", row.dev_evals),
        ("development time", f"{fmt_duration(r.budget_use.dev_time_sec)} of "
                             f"{fmt_duration(r.budget_use.dev_time_limit_sec)}"),
        ("model usage", usage), ("meta-agent's own model", meta_usage(r.meta_agent_usage)),
        ("artifact", f"{r.artifact_files} files, {r.artifact_bytes} bytes, sha256 "
                                             f"{r.artifact_sha256 or DASH}"),
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
    return ('<dl class="facts">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts)
            + "</dl>" + _sandbox(r.sandbox))


def _sandbox(info: dict[str, Any]) -> str:
    """The sandbox backend's self-description: its plain settings in the summary, everything in JSON below."""
    if not info:
        return ""
    plain = ", ".join(f"{k}={v}" for k, v in info.items()
                      if isinstance(v, (str, int, float, bool)) and len(str(v)) < 40)
    return (f"<details><summary>Sandbox <span class='meta'>{escape(plain)}</span></summary>"
            f"<pre>{escape(json.dumps(info, indent=2, default=str))}</pre></details>")


def _develop_window(view: TrialView) -> tuple[float, float | None]:
    """(start of development in seconds after the trial started, its length) from the "develop" phase timing;
    dev evaluation times (`time_sec`) count from the start of development."""
    r = view.result
    timing = r.timings.get("develop")
    if timing is None:
        return 0.0, r.budget_use.dev_time_sec or None
    length = timing.finished_at - timing.started_at if timing.finished_at is not None else None
    return timing.started_at - r.started_at, length or r.budget_use.dev_time_sec or None


def _timeline(view: TrialView) -> str:
    r = view.result
    spans = [Span(name, t.started_at - r.started_at, None if t.finished_at is None else t.finished_at - r.started_at,
                  error=t.error is not None)
             for name, t in sorted(r.timings.items(), key=lambda kv: kv[1].started_at)]
    offset, _ = _develop_window(view)
    ticks = [((p.started_at - r.started_at) if p.started_at else offset + p.time_sec,
              f"{fmt_duration(p.time_sec)} into development: dev {p.accuracy:.1f}%") for p in view.dev_points]
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
