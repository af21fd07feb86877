"""`mac task`: Harbor-format tasks: check them (solution passes, none fails), run an agent artifact on them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.table import Table

from mac.cli import app
from mac.cli.common import console, handle_errors, task_model_option
from mac.textsafe import for_markup

task_app = typer.Typer(help="Harbor-format tasks (task.toml, instruction.md, environment/, solution/, tests/).",
                       no_args_is_help=True)
app.add_typer(task_app, name="task")


def _reward(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


@task_app.command("check")
@handle_errors
def check(
    tasks: list[Path] = typer.Argument(..., help="Task folders."),
    backend: str = typer.Option("auto", "--env-backend", help="auto, bwrap, podman or docker."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per task."),
) -> None:
    """Run each task's solution then its tests, and its tests alone: it must pass with the solution and fail
    without it. Exit 1 when a task does not."""
    from mac.environments.taskjob import check_tasks

    results = asyncio.run(check_tasks(tasks, env_backend=backend))
    if as_json:
        for result in results:
            print(json.dumps({**result.model_dump(mode="json"), "ok": result.ok}))
    else:
        table = Table(title="task check")
        for column in ("task", "with solution", "without", "verdict", "detail"):
            table.add_column(column)
        for r in results:
            detail = r.error or (r.with_solution.error if r.with_solution and r.with_solution.error else "")
            table.add_row(for_markup(r.task), _reward(r.with_solution.reward if r.with_solution else None),
                          _reward(r.without_solution.reward if r.without_solution else None),
                          "[green]ok[/]" if r.ok else "[red]BROKEN[/]", for_markup(detail or ""))
        console.print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@task_app.command("run")
@handle_errors
def run(
    tasks: list[Path] = typer.Argument(..., help="Task folders."),
    agent: Path = typer.Option(..., "--agent", help="A Harbor-style agent: a folder holding agent.py, or the file."),
    task_model: str = typer.Option("sim", "--task-model", help="'sim' (simulated) or 'openai:MODEL_NAME'."),
    base_url: str | None = typer.Option(None, "--base-url", help="Upstream URL for openai:MODEL_NAME."),
    backend: str = typer.Option("auto", "--env-backend", help="auto, bwrap, podman or docker."),
    agent_timeout: float | None = typer.Option(None, "--agent-timeout", min=1,
                                                  help="Seconds for the agent (default: the task's [agent] timeout)."),
    logs: Path | None = typer.Option(None, "--logs", help="Folder for gateway.jsonl and each task's exec log."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per task."),
) -> None:
    """Run an agent artifact on tasks: its own sandbox, the task environment driven over the relay, then the
    tests, and the reward per task with the exec log."""
    from mac.environments.agentrun import locate_agent
    from mac.environments.taskjob import run_tasks

    locate_agent(agent)
    spec = task_model_option(task_model, base_url)
    results = asyncio.run(run_tasks(tasks, agent=agent, task_model=spec, env_backend=backend,
                                    agent_timeout=agent_timeout, log_dir=logs))
    if as_json:
        for result in results:
            print(json.dumps(result.model_dump(mode="json")))
        return
    table = Table(title="task run" + (" [bold magenta](SIMULATED task model)[/]" if spec.simulated else ""))
    for column in ("task", "reward", "agent", "exec calls", "detail"):
        table.add_column(column)
    for r in results:
        status = "timed out" if r.agent.timed_out else ("ok" if r.agent.ok else "failed")
        detail = r.error or r.agent.error or (r.tests.error if r.tests else "") or ""
        table.add_row(for_markup(r.task), _reward(r.reward), status, str(len(r.exec_log)), for_markup(detail[:200]))
    console.print(table)
