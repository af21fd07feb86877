"""Shared CLI helpers: one console, MacError -> clean exit, the task-model options."""

from __future__ import annotations

import functools
from typing import Any
from collections.abc import Callable

import typer
from rich.console import Console

from mac.config import TaskModelSpec
from mac.errors import MacError
from mac.textsafe import for_markup

console = Console()
err_console = Console(stderr=True)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Print a MacError as one red line (its message names the fix) and exit 2, instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MacError as exc:
            err_console.print(f"[bold red]error:[/] {for_markup(exc)}", soft_wrap=True)  # paths stay copyable
            raise typer.Exit(2) from None

    return wrapper


def report_console() -> Console:
    """The terminal's console, or a wide one when output goes to a file or pipe (tables stay readable)."""
    return console if console.is_terminal else Console(width=160)


def task_model_option(task_model: str, base_url: str | None) -> TaskModelSpec:
    """`--task-model` and `--base-url` as a spec; combinations that could only fail later are refused now."""
    from mac.trial.jobcheck import check_task_model

    spec = TaskModelSpec.parse(task_model, base_url=base_url)
    check_task_model(spec, base_url_given=base_url is not None)
    return spec


def print_preflight(lines: list[str]) -> None:
    """What the endpoint checks verified (mac.preflight), one dim line each on stderr."""
    for line in lines:
        err_console.print(f"[dim]checked: {for_markup(line)}[/]", soft_wrap=True)


def print_outcome(out: Console, results: list[Any]) -> None:
    """Below a job's summary: why each trial failed and the stderr tail of each meta-agent that crashed."""
    from mac.trial.outcome import failure_notes

    for trial, text in failure_notes(results):
        out.print(f"[bold red]{for_markup(trial)}[/]: {for_markup(text)}", soft_wrap=True, highlight=False)
