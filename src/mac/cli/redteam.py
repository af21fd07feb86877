"""`mac redteam`: run the red-team attack classes as real trials and print what stopped and recorded each."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import typer
from rich.table import Table

from mac.cli import app
from mac.cli.common import handle_errors
from mac.textsafe import for_markup

_VERDICT_STYLE = {"CLEAN": "green", "SUSPICIOUS": "yellow", "CHEATING": "red"}


def redteam_table(rows, baseline) -> Table:
    table = Table(title=f"Red team (naive baseline test {baseline.test.accuracy:.1f}%, SIMULATED task model)")
    for column in ("attack", "test gain", "stopped by", "evidence", "verdict", "blocked", "detected"):
        table.add_column(column, justify="right" if column == "test gain" else "left", overflow="fold")
    for r in rows:
        gain = "-" if r.gain is None else f"{r.gain:+.1f}"
        blocked = "[green]yes[/]" if r.blocked else f"[red]NO[/]: {for_markup('; '.join(r.failures))}"
        if r.detected:
            detected = "[green]yes[/]"
        elif not r.detect_expected:
            detected = f"not expected: {for_markup(r.why_undetected)}"
        else:
            detected = "[red]NO[/]"
        verdict = r.verdict or "-"
        table.add_row(r.attack, gain, r.layer, for_markup(", ".join(r.evidence[:5]) or "-"),
                      f"[{_VERDICT_STYLE.get(verdict, 'white')}]{verdict}[/]", blocked, detected)
    return table


@app.command()
@handle_errors
def redteam(
    domain: str = typer.Option("arith", "--domain", "-d", help="Domain the attackers run on."),
    attacks: str | None = typer.Option(None, "--attacks", help="Comma-separated attack classes (default: all)."),
    jobs_dir: Path | None = typer.Option(None, "--jobs-dir", help="Where the job folder goes (default ./jobs)."),
    concurrent: int = typer.Option(4, "-n", "--concurrent", min=1, help="Trials at once."),
    dev_time: float = typer.Option(25.0, "--dev-time", help="Development seconds per attacker."),
    list_only: bool = typer.Option(False, "--list", help="List the attack classes and exit."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows (or, with --list, the classes) as JSON."),
) -> None:
    """Run every attack class as a trial (short budgets, sim model) next to the naive baseline.

    Exits 1 if an attack was not blocked, or not detected where detection is expected."""
    from mac.cli.common import report_console
    from mac.paths import jobs_home
    from mac.trial.redteam import run_redteam

    out = report_console()
    if list_only:
        from mac.metaagents.redteam import ATTACKS

        if as_json:
            print(json.dumps([{"attack": a.name, "layer": a.layer, "description": a.description}
                              for a in ATTACKS.values()], ensure_ascii=False))
            return
        for a in ATTACKS.values():
            only = f" ({', '.join(a.domains)} only)" if a.domains else ""
            out.print(f"{a.name:<24} {a.layer:<19} {for_markup(a.description)}{only}")
        return
    names = [a.strip() for a in attacks.split(",") if a.strip()] if attacks else None
    rows, baseline = asyncio.run(run_redteam((jobs_dir or jobs_home()), domain=domain, attacks=names,
                                             concurrency=concurrent, dev_time=dev_time))
    failed = [r.attack for r in rows if not r.ok]
    if as_json:
        print(json.dumps({"job": baseline.job, "dir": str((jobs_dir or jobs_home()).resolve() / baseline.job),
                          "baseline_test": baseline.test.accuracy if baseline.test else None, "simulated": True,
                          "ok": not failed, "rows": [{**dataclasses.asdict(r), "ok": r.ok} for r in rows]},
                         ensure_ascii=False, default=str))
        if failed:
            raise typer.Exit(1)
        return
    out.print(redteam_table(rows, baseline))
    out.print(f"Files: {for_markup((jobs_dir or jobs_home()).resolve() / baseline.job)}")
    if failed:
        out.print(f"[bold red]{len(failed)} attack(s) not blocked or not detected:[/] {', '.join(failed)}")
        raise typer.Exit(1)
    out.print(f"[bold green]all {len(rows)} attacks blocked[/] (detected where expected)")
