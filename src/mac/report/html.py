"""The HTML report: one self-contained page (inline CSS, JS and SVG; nothing from the network) with the
leaderboard, score distributions, a trial list, and a section per trial (`#t:JOB/TRIAL`)."""

from __future__ import annotations

import time
from html import escape
from pathlib import Path

from mac.report.aggregate import ConfigRow, Report, TrialRow, build_report
from mac.report.assets import CSS, ERRORS_JS, MAIN_JS, content_security_policy
from mac.report.baselines import read_baselines
from mac.report.fmt import (DASH, ci, difference_text, fraction, mean_std, meta_usage, money, not_counted, pct, tokens,
                            trial_anchor)
from mac.report.html_trial import trial_section
from mac.report.load import TrialView, scan_job
from mac.report.svg import DistributionRow, distribution
from mac.store import write_text_atomic

REPORT_FILE = "report.html"


def render_html(report: Report, views: list[TrialView], *, refresh_sec: int | None = None,
                title: str | None = None, home_href: str | None = None) -> str:
    """The whole page. `refresh_sec` adds a reload timer and `home_href` a link to the job list (mac view)."""
    title = title or "MAC report: " + ", ".join(report.jobs)
    rows_by_key = {(t.job, t.trial): t for t in report.trials}
    refresh = f'<meta http-equiv="refresh" content="{int(refresh_sec)}">' if refresh_sec else ""
    sections = [trial_section(v, rows_by_key[(v.result.job, v.result.trial)]) for v in views]
    return "\n".join([
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{escape(content_security_policy())}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', refresh,
        f"<title>{escape(title)}</title><style>{CSS}</style><script>{ERRORS_JS}</script></head><body>",
        _header(report, title, home_href),
        '<main><div class="overview">',
        _leaderboard(report), _distributions(report), _trial_list(report),
        "</div>", *sections, "</main>",
        f"<script>{MAIN_JS}</script></body></html>",
    ])


def _header(report: Report, title: str, home_href: str | None) -> str:
    generated = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(report.generated_at))
    banner = ('<div class="sim-banner">SIMULATED: some trials used the simulated task model (sim). Their scores '
              "exercise the benchmark's protocol and say nothing about real models.</div>" if report.simulated else "")
    cheating = "CHEATING trials are included in the means." if report.include_cheating else \
        "CHEATING trials are excluded from the means."
    problems = ""
    if report.problems:
        problems = '<ul class="problems">' + "".join(f"<li>{escape(p)}</li>" for p in report.problems) + "</ul>"
    return (f"<header><h1>{escape(title)}</h1><div class='meta'>generated {generated} &middot; "
            f"{len(report.trials)} trials &middot; {escape(cheating)}</div>{banner}{problems}"
            '<div id="js-errors"></div><nav>' + (f'<a href="{escape(home_href)}">All jobs</a>' if home_href else "")
            + '<a href="#">Leaderboard</a><a href="#distributions">Distributions</a><a href="#trials">Trials</a>'
            "</nav></header>")


def _baseline_cell(config: ConfigRow, kind: str) -> str:
    for comp in config.baselines:
        if comp.kind == kind and comp.score.mean is not None:
            verdict = ""
            if comp.verdict is not None:
                style = {"beats": "yes", "below": "no"}.get(comp.verdict, "meta")
                verdict = f' <span class="{style}">{escape(comp.verdict)}</span>'
            tip = f"{kind} baseline: mean of {comp.score.n} seeds; " + difference_text(comp)
            return f'<span title="{escape(tip)}">{comp.score.mean:.1f}</span>{verdict}'
    return DASH


def _leaderboard(report: Report) -> str:
    head = ("<tr><th>domain</th><th>meta-agent</th><th>task model</th><th class='num'>trials</th>"
            "<th class='num'>test mean ± std</th><th class='num'>95% CI</th><th class='num'>best / worst</th>"
            "<th class='num'>dev→test gap</th><th>naive</th><th>human</th><th>integrity</th>"
            "<th class='num'>model usage</th><th class='num'>budget used</th></tr>")
    rows = [head]
    for c in report.configs:
        counts = f"{c.counted}/{c.trials}" + "".join(f"<br>{escape(part)}" for part in not_counted(c))
        sim = ' <span class="badge sim">SIM</span>' if c.simulated else ""
        rows.append(
            f"<tr><td>{escape(c.domain)}</td><td>{escape(c.meta_agent)}</td><td>{escape(c.task_model)}{sim}</td>"
            f"<td class='num'>{counts}</td><td class='num'>{mean_std(c.test)}</td>"
            f"<td class='num'>{ci(c.test)}</td><td class='num'>{_trial_link(c.best)} / {_trial_link(c.worst)}</td>"
            f"<td class='num'>{mean_std(c.dev_test_gap)}</td>"
            f"<td>{_baseline_cell(c, 'naive')}</td><td>{_baseline_cell(c, 'strong')}</td>"
            f"<td>{_verdict_badges(c.verdicts)}</td><td class='num'>{_usage_cell(c)}</td>"
            f"<td class='num'>time {fraction(c.dev_time_frac)}<br>quota {fraction(c.dev_quota_frac)}</td></tr>")
    if not report.configs:
        rows.append("<tr><td colspan='13' class='meta'>no trials yet</td></tr>")
    return ("<h2 id='leaderboard'>Leaderboard</h2><p class='legend'>Accuracy on the held-out test split (0-100), "
            "per domain × meta-agent × task model; gap = best dev score − test score; naive and human: the domain's "
            "baseline artifacts (<code>mac baseline</code>) on the same test set. Infrastructure errors (the task "
            "model failed upstream) keep their scores in the trial list but never count.</p>"
            f"<p class='legend method'>Method: {escape(report.method)}.</p><div class='scroll'><table>"
            + "".join(rows) + "</table></div>")


def _verdict_badges(counts: dict[str, int]) -> str:
    return " ".join(f'<span class="badge {escape(name)}">{n} {escape(name.lower())}</span>'
                    for name, n in counts.items() if n) or DASH


def _usage_cell(config: ConfigRow) -> str:
    total = config.usage.get("total")
    if total is None:
        return DASH
    meta = config.meta_agent_usage
    return (f"{total.requests} req · {money(total.cost_usd)}<br>"
            f"{tokens(total.input_tokens)} in / {tokens(total.output_tokens)} out"
            + (f"<br>meta-agent: {escape(meta_usage(meta))}" if meta is not None else ""))


def _trial_link(row: TrialRow | None) -> str:
    if row is None or row.test_accuracy is None:
        return DASH
    return f'<a href="#{escape(trial_anchor(row.job, row.trial))}">{row.test_accuracy:.1f}</a>'


def _distributions(report: Report) -> str:
    rows = []
    for c in report.configs:
        members = [t for t in report.trials if (t.domain, t.meta_agent, t.task_model) == c.key]
        base = {comp.kind: comp.score.mean for comp in c.baselines}
        rows.append(DistributionRow(
            label=f"{c.domain} · {c.meta_agent} · {c.task_model}",
            scores=[t.test_accuracy for t in members if t.counted],
            excluded=[t.test_accuracy for t in members if t.test_accuracy is not None and not t.counted],
            mean=c.test.mean, ci=(c.test.ci95_low, c.test.ci95_high) if c.test.ci95_low is not None else None,
            naive=base.get("naive"), strong=base.get("strong")))
    chart = distribution(rows) if rows else "<p class='meta'>no scores yet</p>"
    return ("<h2 id='distributions'>Score distributions</h2>" + chart +
            "<p class='legend'>Dots: trials; bar: mean; line: 95% CI; crosses: excluded trials (CHEATING, "
            "infrastructure errors); "
            "dashed grey tick: naive baseline; orange tick: human-engineered baseline.</p>")


def _trial_list(report: Report) -> str:
    head = ("<tr><th>trial</th><th>domain</th><th>meta-agent</th><th>task model</th><th class='num'>seed</th>"
            "<th>status</th><th class='num'>test</th><th class='num'>best dev</th><th class='num'>gap</th>"
            "<th class='num'>dev evals</th><th>integrity</th><th class='num'>cost</th><th>note</th></tr>")
    rows = [head]
    for t in report.trials:
        verdict = t.integrity_verdict or "unaudited"
        sim = ' <span class="badge sim">SIM</span>' if t.simulated else ""
        note = (t.reason or "") + ("" if t.counted or t.test_accuracy is None else " (excluded from means)")
        rows.append(
            f'<tr><td><a href="#{escape(trial_anchor(t.job, t.trial))}">{escape(t.job)}/{escape(t.trial)}</a></td>'
            f"<td>{escape(t.domain)}</td><td>{escape(t.meta_agent)}</td><td>{escape(t.task_model)}"
            f"{sim}</td><td class='num'>{t.seed}</td>"
            f"<td>{escape(t.status)}</td><td class='num'>{pct(t.test_accuracy)}</td>"
            f"<td class='num'>{pct(t.best_dev_accuracy)}</td><td class='num'>{pct(t.dev_test_gap)}</td>"
            f"<td class='num'>{t.dev_evals}</td><td><span class='badge {escape(verdict)}'>{escape(verdict)}</span></td>"
            f"<td class='num'>{money(t.cost_usd)}</td><td>{escape(note.strip())}</td></tr>")
    return "<h2 id='trials'>Trials</h2><div class='scroll'><table>" + "".join(rows) + "</table></div>"


def job_report(job_dirs: list[Path], *, include_cheating: bool = False, baselines_dir: Path | None = None,
               with_files: bool = True) -> tuple[Report, list[TrialView]]:
    """Load the trials of some job folders and aggregate them, comparing with the baselines found in
    `baselines_dir` (default: the jobs folder that holds the first job)."""
    views: list[TrialView] = []
    unreadable: list[str] = []
    for folder in job_dirs:
        found, broken = scan_job(folder, with_files=with_files)
        views += found
        unreadable += broken
    jobs_dir = baselines_dir if baselines_dir is not None else (Path(job_dirs[0]).parent if job_dirs else Path("."))
    report = build_report(views, read_baselines(jobs_dir), include_cheating=include_cheating,
                          jobs=[Path(d).name for d in job_dirs], unreadable=unreadable)
    return report, views


def write_html_report(job_dir: Path, out: Path | None = None, *, include_cheating: bool = False) -> Path:
    """Write the job's HTML report (default `<job_dir>/report.html`) atomically and return its path."""
    report, views = job_report([Path(job_dir)], include_cheating=include_cheating)
    target = Path(out) if out is not None else Path(job_dir) / REPORT_FILE
    write_text_atomic(target, render_html(report, views))
    return target
