"""`mac demo`: a one-minute, offline tour: the reference meta-agent against the naive baseline on arith."""

from __future__ import annotations

import statistics
from pathlib import Path

import typer
from rich.table import Table

from mac.cli import app
from mac.cli.common import console, handle_errors, print_outcome
from mac.config import TaskModelSpec
from mac.paths import jobs_home
from mac.store.models import TrialResult
from mac.store.paths import JobPaths


def leaderboard(results: list[TrialResult]) -> tuple[Table, list[tuple[str, float]]]:
    """Mean test accuracy per meta-agent (baselines by kind), best first."""
    groups: dict[str, list[TrialResult]] = {}
    for r in results:
        groups.setdefault(r.meta_agent_label, []).append(r)
    rows = []
    for label, items in groups.items():
        tests = [r.test.accuracy if r.test else 0.0 for r in items]
        devs = [r.best_dev.accuracy for r in items if r.best_dev]
        rows.append((label, statistics.mean(tests), tests, statistics.mean(devs) if devs else None))
    rows.sort(key=lambda row: row[1], reverse=True)
    simulated = any(r.simulated for r in results)
    table = Table(title="Leaderboard (test split)" + (" - SIMULATED task model" if simulated else ""))
    for column in ("rank", "meta-agent", "test accuracy (mean)", "per seed", "best dev (mean)"):
        table.add_column(column, justify="left" if column in ("meta-agent", "per seed") else "right")
    for rank, (label, mean, tests, dev) in enumerate(rows, 1):
        table.add_row(str(rank), label, f"{mean:.1f}", " ".join(f"{t:.1f}" for t in tests),
                      "-" if dev is None else f"{dev:.1f}")
    return table, [(label, mean) for label, mean, _, _ in rows]


@app.command()
@handle_errors
def demo(
    seeds: int = typer.Option(3, "--seeds", min=1, max=100, help="Reference meta-agent trials."),
    dev_time: float | None = typer.Option(None, "--dev-time", help="Development seconds per trial (30)."),
    jobs_dir: Path | None = typer.Option(None, "--jobs-dir", help="Where the job folder goes (default ./jobs)."),
    concurrent: int = typer.Option(4, "-n", "--concurrent", min=1, max=256, help="Trials at once."),
    sandbox: str = typer.Option("bwrap", "--sandbox", help="Isolation backend."),
) -> None:
    """Run the reference meta-agent (3 seeds) and the naive baseline on arith with the simulated model."""
    from mac.cli.common import report_console
    from mac.cli.run import SIMULATED_NOTE, run_job_cli, summary_table
    from mac.domains import get_domain
    from mac.trial.jobspec import default_job_name, job_configs
    from mac.trial.jobspec import BudgetSpec
    from mac.trial.outcome import run_exit_code

    budget = BudgetSpec(preset="demo", dev_time=dev_time).build(get_domain("arith").default_budget())
    spec = TaskModelSpec.parse("sim")
    name = default_job_name("demo")
    configs = job_configs(job=name, domain="arith", meta_agent="reference", seeds=seeds, task_model=spec,
                          budget=budget, sandbox=sandbox)
    configs += job_configs(job=name, domain="arith", meta_agent="baseline", seeds=1, task_model=spec, budget=budget,
                           meta_agent_options={"baseline": "naive"}, sandbox=sandbox, suffix="-naive")
    paths = JobPaths((jobs_dir or jobs_home()).resolve(), name)
    console.print(f"mac demo: {seeds} reference trial{'s' if seeds != 1 else ''} + the naive baseline on arith, "
                  f"{budget.dev_time_sec:g}s of development each, task model [bold yellow]sim (SIMULATED)[/]")
    results = run_job_cli(paths, configs, concurrent)
    out = report_console()
    out.print(summary_table(results, title=f"Trials of job {name}"))
    table, _ = leaderboard(results)
    out.print(table)
    out.print(SIMULATED_NOTE)
    out.print(f"Files: {paths.dir}  (result.json, dev_evals.jsonl, gateway.jsonl, artifact/ per trial)")
    out.print(f"Re-verify one: mac verify {paths.dir / configs[0].trial}")
    from mac.report import write_html_report

    out.print(f"HTML report: {write_html_report(paths.dir)}")
    print_outcome(out, results)
    raise typer.Exit(run_exit_code(results))
