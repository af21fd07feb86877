"""`mac env`: task environments: the image cache, importing and pulling images, backends, one-off commands."""

from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path

import typer
from rich.table import Table

from mac.cli import app
from mac.cli.common import console, handle_errors
from mac.textsafe import for_markup
from mac.errors import ConfigError

env_app = typer.Typer(help="Task environments: container images run under bubblewrap (or podman/docker).",
                      no_args_is_help=True)
app.add_typer(env_app, name="env")


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


@env_app.command("images")
@handle_errors
def images(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List the image cache: unpacked root filesystems, what they came from, size, last use."""
    from mac.environments.cache import ImageCache

    cache = ImageCache()
    entries = cache.entries()
    if as_json:
        print(json.dumps(entries))
        return
    table = Table(title=f"image cache: {for_markup(str(cache.root))}")
    for column in ("key", "image", "files", "size", "skipped", "last used"):
        table.add_column(column)
    for info in entries:
        used = datetime.datetime.fromtimestamp(info.get("last_used", 0)).strftime("%Y-%m-%d %H:%M")
        table.add_row(info["key"][:12], for_markup(info.get("ref", "")), str(info.get("files", 0)),
                      _size(info.get("bytes", 0)), str(len(info.get("skipped", []))), used)
    console.print(table)


@env_app.command("prune")
@handle_errors
def prune(
    older_than_days: float = typer.Option(0.0, "--older-than-days", min=0,
                                          help="Only images unused for this many days (default: every image)."),
) -> None:
    """Remove cached images (those an environment runs on right now are kept)."""
    from mac.environments.cache import ImageCache

    removed = ImageCache().prune(older_than_days * 86400)
    for info in removed:
        console.print(f"removed {info['key'][:12]} {for_markup(info.get('ref', ''))} ({_size(info.get('bytes', 0))})")
    console.print(f"{len(removed)} image(s) removed")


@env_app.command("pull")
@handle_errors
def pull(image: str = typer.Argument(..., help="docker://NAME:TAG, NAME:TAG, oci:PATH, rootfs:PATH, dockerfile:PATH.")) -> None:
    """Fetch (skopeo), build (podman/buildah) or import an image into the cache and unpack it."""
    from mac.environments.cache import ImageCache
    from mac.environments.images import parse_ref

    found = ImageCache().resolve(parse_ref(image))
    console.print(f"ready: {found.key[:12]} {for_markup(str(found.rootfs))}")


@env_app.command("import")
@handle_errors
def import_dir(
    folder: Path = typer.Argument(..., help="A folder holding a root filesystem (e.g. made by mmdebstrap)."),
    out: Path = typer.Option(..., "--out", help="Where to write the OCI layout."),
    workdir: str = typer.Option("/", "--workdir", help="The image's working folder."),
    env: list[str] = typer.Option([], "--env", help="KEY=VALUE environment variable of the image (repeatable)."),
    user: str = typer.Option("", "--user", help="The image's user (name or uid; default root)."),
) -> None:
    """Make an OCI image layout (one layer) from a folder: a prebuilt image to name as `oci:PATH` in a task."""
    from mac.environments import oci

    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder")
    variables = dict(item.partition("=")[::2] for item in env)
    digest = oci.write_layout(out, [oci.layer_from_dir(folder)], env=variables, workdir=workdir, user=user)
    console.print(f"wrote {for_markup(str(out))} ({digest[:19]}): use it as image oci:{for_markup(str(out))}")


@env_app.command("check")
@handle_errors
def check() -> None:
    """Which environment backends this machine can run (bwrap always; podman and docker when their CLI works)."""
    from mac.environments.registry import availability

    table = Table(title="environment backends")
    for column in ("backend", "status", "detail"):
        table.add_column(column)
    for name, (ok, why) in availability().items():
        table.add_row(name, "[green]ok[/]" if ok else "[yellow]not available[/]", for_markup(why or "usable"))
    console.print(table)


@env_app.command("exec")
@handle_errors
def exec_command(
    image: str = typer.Argument(..., help="The image reference."),
    command: str = typer.Argument(..., help="A shell command, run in a fresh environment of the image."),
    backend: str = typer.Option("auto", "--env-backend", help="auto, bwrap, podman or docker."),
    network: list[str] = typer.Option([], "--allow", help="Egress allowlist entry (repeatable; default: no network)."),
    host_runtime: bool = typer.Option(False, "--host-runtime", help="Bind the host's /usr over the image."),
    timeout: float = typer.Option(600.0, "--timeout", min=1, help="Seconds before the command is killed."),
) -> None:
    """Run one command in a throw-away environment of an image and print its output (exit code passed on)."""
    from mac.environments.base import EnvironmentSpec, NetworkPolicy
    from mac.environments.registry import get_env_backend

    async def run():
        spec = EnvironmentSpec(image=image, label="mac-env-exec", network=NetworkPolicy(allow=network),
                               host_runtime=host_runtime)
        async with await get_env_backend(backend).start(spec) as env:
            return await env.exec(command, timeout=timeout)

    result = asyncio.run(run())
    print(result.stdout, end="")
    typer.echo(result.stderr, err=True, nl=False)
    raise typer.Exit(result.returncode if result.returncode is not None and result.returncode >= 0 else 124)
