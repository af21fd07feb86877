"""Shared CLI helpers: one console, MacError -> clean exit, the task-model options."""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

import typer
from rich.console import Console

from mac.config import TaskModelSpec
from mac.errors import ConfigError, MacError
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
    spec = TaskModelSpec.parse(task_model, base_url=base_url)
    if spec.simulated and base_url:
        raise ConfigError("--base-url is for --task-model openai:MODEL_NAME; the sim task model has no upstream")
    if not spec.simulated and base_url is None and not os.environ.get(spec.api_key_env):
        raise ConfigError(f"--task-model {task_model} calls {spec.base_url} and needs the key in ${spec.api_key_env}; "
                          "set it, or pass --base-url URL for another OpenAI-compatible server")
    return spec
