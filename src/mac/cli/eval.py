"""`mac eval`: run an artifact once on a domain's split and print its score."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.table import Table

from mac.cli import app
from mac.cli.common import console, err_console, handle_errors, print_preflight, task_model_option
from mac.config import check_rate, check_seconds
from mac.errors import ConfigError
from mac.evaluation.result import EvalResult
from mac.textsafe import for_markup, printable

_MISSING_SHOWN = 20


@app.command("eval")
@handle_errors
def eval_command(
    domain: str = typer.Option(..., "--domain", help="Domain name (aime, science, arith, ...)."),
    split: str = typer.Option(..., "--split", help="dev or test."),
    artifact: Path = typer.Option(..., "--artifact", help="A folder holding agent.py, or the agent .py file."),
    data: Path | None = typer.Option(None, "--data", help="Domain data folder with dev.jsonl and test.jsonl."),
    task_model: str = typer.Option("sim", "--task-model", help="'sim' (simulated) or 'openai:MODEL_NAME'."),
    base_url: str | None = typer.Option(None, "--base-url", help="Upstream URL for openai:MODEL_NAME."),
    timeout: float | None = typer.Option(None, "--timeout", min=1, help="Seconds for the artifact's solve()."),
    first_k: int | None = typer.Option(None, "--first-k", min=1, help="Only the first K problems."),
    test_seed_file: Path | None = typer.Option(None, "--test-seed-file", help="Secret seed of a generated test "
                                                  "split (arith); created if missing (default: this install's)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    unsafe_no_sandbox: bool = typer.Option(
        False, "--unsafe-no-sandbox",
        help="Run the artifact WITHOUT any isolation (debugging only; refused for test)."),
    max_upstream_error_rate: float = typer.Option(
        0.2, "--max-upstream-error-rate", help="Share of task-model calls failing upstream above which the run "
        "counts as an infrastructure failure (exit 1)."),
) -> None:
    """Evaluate an artifact on a split: accuracy, missing predictions and task-model usage.

    Exit code 0: the artifact answered every problem cleanly; 1: it failed (crash, timeout, missing or badly
    typed predictions) or the task model's upstream did; 2: bad usage, data or endpoint (nothing ran)."""
    from mac.evaluation.runner import eval_artifact, locate_agent
    from mac.preflight import check_endpoints, task_model_endpoint
    from mac.trial.outcome import eval_failure

    if split not in ("dev", "test"):
        raise ConfigError(f"unknown split {split!r}: use --split dev or --split test")
    check_seconds(timeout, "--timeout")
    check_rate(max_upstream_error_rate, "--max-upstream-error-rate")
    locate_agent(artifact)  # a wrong path is a usage error, not a failed evaluation
    spec = task_model_option(task_model, base_url)
    sandbox = "none" if unsafe_no_sandbox else "bwrap"
    if unsafe_no_sandbox:
        if split == "test":
            raise ConfigError("--unsafe-no-sandbox is refused for the test split: drop the flag to run sandboxed")
        err_console.print("[bold red]WARNING: --unsafe-no-sandbox runs the artifact WITHOUT ANY ISOLATION: it can read "
                          "every file of this user (answers included), use the network and touch other processes. "
                          "Only use it on code you trust.[/]")
    print_preflight(check_endpoints([task_model_endpoint(spec)]))  # before the data loads or anything runs
    run = eval_artifact(domain=domain, data=data, split=split, artifact=artifact, task_model=spec, timeout=timeout,
                        first_k=first_k, sandbox=sandbox, test_seed_file=test_seed_file)
    if as_json:
        result = asyncio.run(run)
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
    else:
        with console.status(f"Evaluating {artifact} on {domain}/{split} ..."):
            result = asyncio.run(run)
        _print_result(result, domain, unsafe_no_sandbox)
    failure = eval_failure(result, max_upstream_error_rate)
    if failure:
        if as_json or failure != result.error:  # the table's "artifact error" line already said it otherwise
            err_console.print(f"[bold red]failed:[/] {for_markup(failure)}", soft_wrap=True)
        raise typer.Exit(1)


def _print_result(result: EvalResult, domain: str, unsafe: bool) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("domain / split", f"{domain} / {result.split}")
    table.add_row("accuracy", f"[bold]{result.accuracy:.1f}%[/]  ({result.correct}/{result.total} correct)")
    missing = result.missing_predictions
    shown = ", ".join(map(str, missing[:_MISSING_SHOWN])) + (" ..." if len(missing) > _MISSING_SHOWN else "")
    table.add_row("missing predictions", f"{len(missing)}" + (f"  (idx {shown})" if missing else ""))
    if result.invalid_predictions:
        table.add_row("invalid predictions", str(len(result.invalid_predictions)))
    u = result.usage
    table.add_row("task-model usage", f"{u.requests} requests, {u.input_tokens} input / {u.output_tokens} output tokens"
                  + (f", ${u.cost_usd:.4f}" if u.cost_usd else "")
                  + (f", [yellow]{u.upstream_errors} failed upstream[/]" if u.upstream_errors else ""))
    flags = [name for name, on in (("partial", result.partial), ("timed out", result.timed_out)) if on]
    table.add_row("run", f"{result.wall_sec:.1f}s" + (f"  [yellow]{', '.join(flags)}[/]" if flags else ""))
    if result.simulated:
        table.add_row("task model", "[bold magenta]SIMULATED[/] (the sim backend: not a real model's score)")
    if unsafe:
        table.add_row("sandbox", "[bold red]NONE (unsandboxed debug run)[/]")
    console.print(table)
    if result.error:
        err_console.print(f"[bold red]artifact error:[/] {for_markup(result.error)}")
        if result.traceback:
            err_console.print(printable(result.traceback, multiline=True), markup=False, highlight=False)
        elif result.artifact_stderr.strip():
            err_console.print("[dim]stderr (tail):[/]")
            err_console.print(printable("\n".join(result.artifact_stderr.rstrip().splitlines()[-15:]), multiline=True),
                              markup=False,
                              highlight=False)
