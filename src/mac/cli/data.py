"""`mac data ...` (import, pull, list, show) and `mac domains`: domain data and the domains themselves."""

from __future__ import annotations

import json
from typing import Any
from pathlib import Path

import typer
from rich.progress import TaskID
from rich.table import Table

from mac.cli import app
from mac.cli.common import console, handle_errors
from mac.config import Budget
from mac.errors import MacError
from mac.textsafe import for_markup

data_app = typer.Typer(help="Domain data: import your files, pull the public sets, see what is installed.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("import")
@handle_errors
def import_command(
    domain: str = typer.Argument(..., help="Domain name (aime, science, ...)."),
    dev: Path = typer.Option(..., "--dev", help="JSONL file of the development split."),
    test: Path = typer.Option(..., "--test", help="JSONL file of the held-out test split."),
    force: bool = typer.Option(False, "--force", help="Replace data already installed for this domain."),
) -> None:
    """Validate DEV and TEST (file, line and field of any error), then copy them into the user data dir."""
    from mac.domains.data import import_files, status

    folder = import_files(domain, dev, test, force=force)
    counts = status(domain).counts
    console.print(f"imported {domain}: {counts.get('dev', 0)} dev, {counts.get('test', 0)} test records -> "
                  f"{for_markup(str(folder))}")


@data_app.command("pull")
@handle_errors
def pull_command(
    domain: str = typer.Argument(..., help="aime, science or lcb."),
    force: bool = typer.Option(False, "--force", help="Replace data already installed for this domain."),
) -> None:
    """Download the public sets from the Hugging Face hub, convert, validate and install them.

    Needs network and the `hub` extra (huggingface-hub, pyarrow). Gated sets (HLE, GPQA) need their licence
    accepted on the hub and HF_TOKEN set. lcb fetches about 4.5 GB (resumable: run it again after a cut), checks
    every file's sha256 and splits as MAC does."""
    from mac.domains.data import status
    from mac.domains.hub import pull

    if domain == "lcb":  # long: the hub's own download bars, then ours for checking and converting
        folder = _pull_with_progress(domain, force)
    else:
        with console.status(f"pulling {domain} from the Hugging Face hub ..."):
            folder = pull(domain, force=force)
    counts = status(domain).counts
    console.print(f"pulled {domain}: {counts.get('dev', 0)} dev, {counts.get('test', 0)} test records -> "
                  f"{for_markup(str(folder))}")


def _pull_with_progress(domain: str, force: bool) -> Path:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from mac.domains.hub import pull

    tasks: dict[str, TaskID] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                  console=console) as bars:
        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(for_markup(stage), total=total)
            bars.update(tasks[stage], completed=done, total=total)

        return pull(domain, force=force, progress=progress)


@data_app.command("list")
@handle_errors
def list_command(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON array, one object per domain."),
) -> None:
    """Every domain, where its data comes from and how many records each split has."""
    from mac.domains import domain_names
    from mac.domains.data import status

    statuses = [status(name) for name in domain_names()]
    if as_json:
        print(json.dumps([s.model_dump(mode="json") for s in statuses], ensure_ascii=False))
        return
    table = Table("domain", "source", "dev", "test", "folder / problem")
    for s in statuses:
        name = s.domain
        note = f"[red]{for_markup(s.error)}[/]" if s.error else for_markup(s.folder)
        if s.source not in ("user data dir", "generated"):  # missing, or built-in stand-ins
            note += f"  [dim](mac data pull {name}  or  mac data import {name} --dev F --test F)[/]"
        table.add_row(name, s.source, str(s.counts.get("dev", "-")), str(s.counts.get("test", "-")), note)
    console.print(table)


@data_app.command("show")
@handle_errors
def show_command(
    domain: str = typer.Argument(..., help="Domain name."),
    split: str = typer.Option("dev", "--split", help="dev or test."),
    n: int = typer.Option(3, "-n", min=1, help="How many records."),
    data: Path | None = typer.Option(None, "--data", help="Domain data folder instead of the user data dir."),
    answers: bool = typer.Option(False, "--answers", help="Also print the answers (trusted side only)."),
) -> None:
    """Print the first N problems of a split as the artifact sees them."""
    from mac.domains import get_domain

    dom = get_domain(domain)
    records = dom.load(split, data)
    for idx, record in enumerate(records[:n]):
        problem = dom.problem(idx, record)
        console.rule(f"{domain}/{split} #{idx}  id={for_markup(record.id)}")
        console.print(for_markup(problem.question, multiline=True))
        for choice in problem.choices or []:
            console.print("  " + for_markup(choice))
        if problem.extra:
            console.print(f"[dim]extra: {for_markup(problem.extra)}[/]")
        if answers:
            console.print(f"[bold]answer:[/] {for_markup(record.answer)}")
    console.print(f"[dim]{len(records)} records in {domain}/{split}[/]")


@app.command("domains")
@handle_errors
def domains_command(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON array, one object per domain."),
) -> None:
    """The domains (built in, or from installed plugin packages) and their default budgets."""
    from mac.domains import domain_names
    from mac.domains.base import DOMAINS
    from mac.domains.instruction import duration

    rows: list[dict[str, Any]] = []
    for name in domain_names():
        try:
            dom = DOMAINS.get(name)()
        except MacError as exc:  # a broken plugin package: list it with the reason, never hide it
            rows.append({"domain": name, "origin": DOMAINS.origin(name), "error": str(exc)})
            continue
        rows.append({"domain": name, "origin": DOMAINS.origin(name), "answers": dom.answer_format,
                     "description": dom.description, "budget": dom.default_budget().model_dump(mode="json")})
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("domain", "from", "answers", "dev time", "eval / verify timeout", "dev quota", "description")
    for row in rows:
        if "error" in row:
            table.add_row(row["domain"], for_markup(row["origin"]), "-", "-", "-", "-", f"[red]{for_markup(row['error'])}[/]")
            continue
        b = Budget.model_validate(row["budget"])
        q = b.dev_quota
        quota = ", ".join(f"{_short(v)} {label}" for v, label in
                          ((q.requests, "req"), (q.output_tokens, "out tok"), (q.concurrent, "concurrent")) if v)
        table.add_row(row["domain"], for_markup(row["origin"]), row["answers"], duration(b.dev_time_sec),
                      f"{duration(b.eval_timeout_sec)} / {duration(b.verify_timeout_sec)}", quota or "unlimited",
                      for_markup(row["description"]))
    console.print(table)


def _short(n: float) -> str:
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return f"{n / size:g}{unit}"
    return f"{n:g}"
