"""`mac verify TRIAL_DIR`: re-verify a trial's frozen artifact from its folder (artifact/ + config.json)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from mac.cli import app
from mac.cli.common import handle_errors, print_outcome, print_preflight


@app.command()
@handle_errors
def verify(
    trial_dir: Path = typer.Argument(..., help="A trial folder: jobs/<job>/<trial>."),
    sandbox: str | None = typer.Option(None, "--sandbox", help="Override the trial's isolation backend."),
    as_json: bool = typer.Option(False, "--json", help="Print the updated result.json as one JSON object."),
) -> None:
    """Run the frozen artifact on the test split again and update verification.json and result.json.

    Exit code 0: verified cleanly; 1: the artifact or the task model's upstream failed; 2: not a verifiable
    trial folder (unreadable config.json or result.json, unfinished, edited artifact) or a dead endpoint."""
    from mac.cli.common import report_console
    from mac.cli.run import SIMULATED_NOTE, summary_table
    from mac.trial.checks import preflight_trials
    from mac.trial.outcome import run_exit_code
    from mac.trial.verify import trial_config, verify_trial_dir

    print_preflight(preflight_trials([trial_config(trial_dir)], meta_agents=False))  # no meta-agent runs here
    result = asyncio.run(verify_trial_dir(trial_dir, sandbox=sandbox))
    if as_json:
        print(result.model_dump_json())
        return
    out = report_console()
    out.print(summary_table([result], title=f"Re-verified {trial_dir}"))
    if result.simulated:
        out.print(SIMULATED_NOTE)
    print_outcome(out, [result])
    raise typer.Exit(run_exit_code([result]))
