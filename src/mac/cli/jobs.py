"""`mac jobs`, `mac show`, `mac clean`: past jobs, one job or trial, and the scratch abandoned jobs left behind."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mac.cli import app
from mac.cli.common import handle_errors, report_console
from mac.paths import jobs_home
from mac.textsafe import for_markup

if TYPE_CHECKING:
    from mac.store.models import TrialResult
    from mac.trial.catalog import JobOverview, TrialEntry


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


@app.command("jobs")
@handle_errors
def jobs_command(
    jobs_dir: Path | None = typer.Option(None, "--jobs-dir", help="The jobs folder (default ./jobs, $MAC_JOBS)."),
    as_json: bool = typer.Option(False, "--json", help="Print the list as one JSON array."),
    reindex: bool = typer.Option(False, "--reindex", help="Rebuild index.sqlite from the job folders first."),
) -> None:
    """Past jobs, newest first: name, domain, meta-agent, status, mean test score, date."""
    from mac.store.index import Index
    from mac.trial.catalog import list_jobs

    folder = Path(jobs_dir or jobs_home())
    if reindex and folder.is_dir():
        Index(folder / "index.sqlite").rebuild(folder)
    summaries = list_jobs(folder)
    if as_json:
        print(json.dumps([s.model_dump(mode="json") for s in summaries], ensure_ascii=False))
        return
    table = Table(title=f"Jobs in {for_markup(str(folder))}")
    for column in ("job", "domain", "meta-agent", "status", "trials", "mean test", "created"):
        table.add_column(column, justify="right" if column in ("trials", "mean test") else "left")
    for s in summaries:
        mean = "-" if s.mean_test is None else f"{s.mean_test:.1f}" + (" (sim)" if s.simulated else "")
        status = s.status if s.controller_pid is None else f"running (pid {s.controller_pid})"
        table.add_row(for_markup(s.job), for_markup(", ".join(s.domains)), for_markup(", ".join(s.meta_agents)), status,
                      str(s.trials), mean, _when(s.created_at))
    report_console().print(table)


@app.command("show")
@handle_errors
def show_command(
    target: str = typer.Argument(..., help="JOB (a name or folder) or JOB/TRIAL (or a trial folder)."),
    jobs_dir: Path | None = typer.Option(None, "--jobs-dir", help="Where job names are looked up."),
    as_json: bool = typer.Option(False, "--json", help="Print it as one JSON object."),
) -> None:
    """Print one job (its settings and every trial) or one trial (scores, budget use, timings, integrity)."""
    from mac.trial.catalog import job_overview, load_trial, resolve_target

    paths, trial = resolve_target(target, Path(jobs_dir or jobs_home()))
    if trial is not None:
        entry = load_trial(paths.trial(trial))
        if as_json:
            print(entry.model_dump_json())
            return
        _print_trial(entry)
        return
    overview = job_overview(paths)
    if as_json:
        print(overview.model_dump_json())
        return
    _print_job(overview)


def _print_job(overview: JobOverview) -> None:
    from mac.cli.run import SIMULATED_NOTE, describe_budget, summary_table

    out = report_console()
    state = f"running (controller pid {overview.controller_pid})" if overview.controller_pid else "not running"
    out.print(f"[bold]Job {for_markup(overview.job)}[/]  {for_markup(overview.dir)}  ({state})", soft_wrap=True)
    spec = overview.spec
    if spec:
        options = ", ".join(f"{k}={v}" for k, v in spec["meta_agent_options"].items())
        out.print(for_markup(f"{spec['domain']} x {spec['meta_agent']}" + (f" ({options})" if options else "") +
                         f", {spec['seeds']} seed(s) from {spec['first_seed']}, task model {spec['task_model']}, "
                         f"sandbox {spec['sandbox']}, -n {spec['concurrency']}"), soft_wrap=True)
    configs = [t.config for t in overview.trials if t.config is not None]
    if configs:
        out.print(for_markup(f"budget per trial: {describe_budget(configs[0].budget)}"), soft_wrap=True)
    results = [t.result for t in overview.trials if t.result is not None]
    out.print(summary_table(results, title=f"Trials of {overview.job}"))
    for t in overview.trials:
        if t.problem:
            out.print(f"[yellow]{for_markup(t.trial)}[/]: {for_markup(t.problem)}")
    if any(r.simulated for r in results):
        out.print(SIMULATED_NOTE)


def _print_trial(entry: TrialEntry) -> None:
    out = report_console()
    out.print(f"[bold]Trial {for_markup(entry.trial)}[/]  {for_markup(entry.dir)}", soft_wrap=True)
    if entry.result is None:
        out.print(f"[yellow]{for_markup(entry.problem or 'no result')}[/]")
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    for key, value in _trial_rows(entry.result):
        table.add_row(key, for_markup(value))
    out.print(table)
    if entry.result.simulated:
        from mac.cli.run import SIMULATED_NOTE

        out.print(SIMULATED_NOTE)


def _trial_rows(r: TrialResult) -> list[tuple[str, str]]:
    from mac.cli.run import describe_quota

    u, v = r.budget_use.dev_usage, r.budget_use.verify_usage
    rows = [("status", r.status + (f": {r.reason}" if r.reason else "")),
            ("meta-agent", f"{r.meta_agent_label}, seed {r.seed}, domain {r.domain}, task model {r.task_model}"),
            ("test", f"{r.test.accuracy:.1f}% ({r.test.correct}/{r.test.total})" if r.test else "-"),
            ("best dev", f"{r.best_dev.accuracy:.1f}% ({r.best_dev.correct}/{r.best_dev.total}) at "
                         f"{r.best_dev.time_sec:.0f}s" if r.best_dev else "-"),
            ("dev evaluations", str(r.dev_evals)),
            ("development", f"{r.budget_use.dev_time_sec:.1f}s of {r.budget_use.dev_time_limit_sec:g}s"),
            ("dev usage", f"{u.requests} requests, {u.input_tokens}/{u.output_tokens} tokens in/out"
                          + (f", ${u.cost_usd:.4f}" if u.cost_usd else "") +
                          f" (quota: {describe_quota(r.budget_use.dev_quota)})"),
            ("verify usage", f"{v.requests} requests, {v.input_tokens}/{v.output_tokens} tokens in/out"
                             + (f", ${v.cost_usd:.4f}" if v.cost_usd else ""))]
    if r.meta_agent_exit is not None:
        e = r.meta_agent_exit
        rows.append(("meta-agent exit", f"code {e.returncode}" + (" (deadline)" if e.timed_out else "") +
                     (f", killed by {e.killed_by}" if e.killed_by else "") + f", {e.wall_sec:.1f}s"))
    rows.append(("integrity", f"{r.integrity_verdict or 'not audited'}, {len(r.findings)} finding(s), "
                              f"{r.evidence_count} evidence record(s)"))
    rows.append(("artifact", f"sha256 {r.artifact_sha256[:16]}, {r.artifact_files} files, {r.artifact_bytes} bytes"
                 if r.artifact_sha256 else "-"))
    for phase, timing in r.timings.items():
        took = f"{timing.duration_sec:.1f}s" if timing.duration_sec is not None else "unfinished"
        rows.append((f"  {phase}", took + (f"  {timing.error.type}: {timing.error.message[:120]}" if timing.error
                                            else "")))
    if r.resumed:
        rows.append(("resumed", ", ".join(f"{x.policy} from {x.from_phase}" for x in r.resumed)))
    return rows


@app.command("clean")
@handle_errors
def clean_command(
    jobs_dir: Path | None = typer.Option(None, "--jobs-dir", help="The jobs folder (default ./jobs, $MAC_JOBS)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be removed."),
    as_json: bool = typer.Option(False, "--json", help="Print what was found as one JSON array."),
) -> None:
    """Remove the scratch folders of jobs whose controller is gone (never a running job's).

    A live workspace found there is first copied back into its trial folder, so `mac run --resume` still
    continues from it."""
    from mac.trial.catalog import clean_scratch

    folder = Path(jobs_dir or jobs_home())
    found = clean_scratch(folder, dry_run=dry_run) if folder.is_dir() else []
    if as_json:
        print(json.dumps([c.model_dump(mode="json") for c in found], ensure_ascii=False))
        return
    out = report_console()
    for c in found:
        verb = "would remove" if dry_run else ("removed" if c.removed else "kept")
        out.print(for_markup(f"{verb} {c.scratch} ({c.bytes / 1e6:.1f} MB) of {c.job}/{c.trial}"
                         + (f": {c.note}" if c.note else "")), soft_wrap=True)
    total = sum(c.bytes for c in found if c.removed or dry_run)
    out.print(f"{len(found)} scratch folder(s), {total / 1e6:.1f} MB" + (" (dry run)" if dry_run else " freed"))
