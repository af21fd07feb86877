"""`mac ray start`: make this machine a Ray node that can run trials (`mac run --executor ray`)."""

from __future__ import annotations

import os
import sys

import typer

from mac.cli import app
from mac.cli.common import console, handle_errors

ray_app = typer.Typer(help="Ray nodes for `mac run --executor ray`.", no_args_is_help=True)
app.add_typer(ray_app, name="ray")


@ray_app.command("start", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@handle_errors
def start(
    ctx: typer.Context,
    sandboxes: int | None = typer.Option(None, "--sandboxes", min=1, help="Trials this node runs at once "
                                            "(the mac_sandbox resource; default: its CPUs)."),
) -> None:
    """Check that bubblewrap works here, then run `ray start ARGS --resources '{"mac_sandbox": N}'`.

    Every other argument goes to `ray start` unchanged, e.g. `mac ray start --head --port 6379
    --node-ip-address 10.0.0.5` or `mac ray start --address 10.0.0.5:6379`. Set the cluster's token in
    RAY_AUTH_TOKEN on every node. This process becomes `ray start` (exit 2 when bubblewrap does not work)."""
    from mac.trial.executors.cluster import check_bwrap, start_command

    console.print(f"bubblewrap works here: {check_bwrap()}", markup=False)
    command, env = start_command(list(ctx.args), sandboxes)
    sys.stdout.flush()
    os.execve(command[0], command, {**os.environ, **env})  # becomes `ray start`: its signals, its exit code
