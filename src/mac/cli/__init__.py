"""The `mac` command. Each module in this package adds its commands to `app`; commands stay thin over library calls."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

app = typer.Typer(
    name="mac",
    help="MAC: the Meta-Agent Challenge, self-hosted. Build agents with agents; verify them on held-out data.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"mac {version('mac-bench')}")  # the distribution's name (pyproject)
        raise typer.Exit()


@app.callback()
def _main(show_version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                            help="Print the version and exit.")) -> None:
    """MAC: the Meta-Agent Challenge, self-hosted. Build agents with agents; verify them on held-out data."""


class _FlagCommand(TyperCommand):
    """A command whose on/off flags show no `<bool>` value in --help (they take none)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _bare_flags(super().get_params(ctx))


class _FlagGroup(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _bare_flags(super().get_params(ctx))


def _bare_flags(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # the help's type column shows the metavar when there is one
    return params


def _use_flag_classes(typer_app: typer.Typer) -> None:
    """Every command and sub-app, whichever module added it, renders its flags bare."""
    typer_app.info.cls = typer_app.info.cls or _FlagGroup
    for command in typer_app.registered_commands:
        if command.cls in (None, TyperCommand):
            command.cls = _FlagCommand
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _use_flag_classes(group.typer_instance)


def _register() -> None:
    # Import order is the order of `mac --help`.
    from mac.cli import demo, run, jobs, eval, verify, report, audit, redteam, data, sandbox, env, task, ray  # noqa: F401

    _use_flag_classes(app)


_register()
