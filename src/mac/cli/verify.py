"""`mac verify TRIAL_DIR`: re-verify a trial's frozen artifact from its folder (artifact/ + config.json)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer

from mac.cli import app
from mac.cli.common import handle_errors


@app.command()
@handle_errors
def verify(
    trial_dir: Path = typer.Argument(..., help="A trial folder: jobs/<job>/<trial>."),
    sandbox: Optional[str] = typer.Option(None, "--sandbox", help="Override the trial's isolation backend."),
    as_json: bool = typer.Option(False, "--json", help="Print the updated result.json as one JSON object."),
) -> None:
    """Run the frozen artifact on the test split again and update verification.json and result.json."""
    from mac.cli.run import SIMULATED_NOTE, report_console, summary_table
    from mac.trial.verify import verify_trial_dir

    result = asyncio.run(verify_trial_dir(trial_dir, sandbox=sandbox))
    if as_json:
        print(result.model_dump_json())
        return
    out = report_console()
    out.print(summary_table([result], title=f"Re-verified {trial_dir}"))
    if result.simulated:
        out.print(SIMULATED_NOTE)
