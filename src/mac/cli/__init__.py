"""The `mac` command. Each module in this package adds its commands to `app`; commands stay thin over library calls."""

from __future__ import annotations

import typer

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


def _register() -> None:
    # Import order is the order of `mac --help`.
    from mac.cli import demo, run, eval, verify, report, audit, redteam, data, sandbox, env, task  # noqa: F401


_register()
