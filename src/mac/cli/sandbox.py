"""`mac sandbox check` (what isolation this machine supports) and `mac setup` (build the sandbox runtime)."""

from __future__ import annotations

import os

import typer
from rich.markup import escape
from rich.table import Table

from mac.cli import app
from mac.cli.common import console, handle_errors
from mac.errors import MacError

sandbox_app = typer.Typer(help="The bubblewrap sandbox: what this machine supports.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


def _rows() -> tuple[list[tuple[str, str, str]], bool]:
    """(feature, status, detail) rows, and whether sandboxes can run at all."""
    from mac.sandbox import cgroups, host, runtime, seccomp, uids

    rows, runnable = [], True
    try:
        bwrap = host.find_bwrap()
        ok, error = host.smoke_test(bwrap)
        rows.append(("bubblewrap", "ok" if ok else "FAILED", f"{bwrap.version} ({bwrap.source}) {bwrap.path}"
                     + ("" if ok else f": {error}; {host.FIX}")))
        runnable &= ok
    except MacError as exc:
        rows.append(("bubblewrap", "MISSING", str(exc)))
        runnable = False
    userns, why = host.userns_enabled()
    rows.append(("user namespaces", "ok" if userns else "DISABLED", why or "unprivileged user namespaces enabled"))
    runnable &= userns
    if os.geteuid() == 0:
        first, last = uids.uid_range()
        rows.append(("uids", "ok", f"one dedicated uid per sandbox from {first}-{last} (MAC_SANDBOX_UIDS)"))
    else:
        rows.append(("uids", "fallback", f"not root: sandboxes run as uid {os.getuid()}; no RLIMIT_NPROC"))
    support = cgroups.detect()
    rows.append(("cgroups", "ok" if support.version else "fallback",
                 f"v{support.version}: {', '.join(support.controllers)}" if support.version
                 else f"{support.note} (memory via RLIMIT_AS, processes via RLIMIT_NPROC)"))
    program, note = seccomp.seccomp_filter()
    rows.append(("seccomp", "ok" if program else "off", note or f"deny-list, {len(program or b'')} bytes of BPF"))
    try:
        rt = runtime.runtime_for()
        ready = runtime.is_ready(rt)
        rows.append(("interpreter", "ok", f"{rt.interpreter.path} ({rt.interpreter.version})"))
        rows.append(("runtime", "ok" if ready else "not built",
                     str(rt.root) if ready else f"{rt.root} (built on first use, or run `mac setup`)"))
    except MacError as exc:
        rows.append(("interpreter", "MISSING", str(exc)))
        runnable = False
    return rows, runnable


@sandbox_app.command("check")
@handle_errors
def check() -> None:
    """Print which isolation features this machine supports and what falls back. Exit 1 if bwrap cannot run."""
    rows, runnable = _rows()
    table = Table(title="MAC sandbox on this machine")
    for column in ("feature", "status", "detail"):
        table.add_column(column)
    colors = {"ok": "green", "fallback": "yellow", "off": "yellow", "not built": "yellow"}
    for feature, status, detail in rows:
        table.add_row(feature, f"[{colors.get(status, 'red')}]{status}[/]", escape(detail))
    console.print(table)
    if not runnable:
        console.print("[bold red]sandboxes cannot run on this machine[/]: fix the rows in red")
        raise typer.Exit(1)


@app.command("setup")
@handle_errors
def setup(
    domain: list[str] = typer.Option([], "--domain", help="Also build the runtime with this domain's packages."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild even if the runtime exists."),
    prune: bool = typer.Option(False, "--prune", help="Remove other runtimes (old SDKs); only while no sandbox runs."),
) -> None:
    """Build (or refresh) the sandbox runtime: interpreter venv, openai, the SDK, and domains' packages."""
    from mac.sandbox.host import find_bwrap
    from mac.sandbox.runtime import ensure_runtime, prune_runtimes

    bwrap = find_bwrap()
    console.print(f"bubblewrap {bwrap.version}: {escape(str(bwrap.path))}")
    package_sets: list[tuple[str, list[str]]] = [("default", [])]
    if domain:
        from mac.domains.base import get_domain

        package_sets += [(name, get_domain(name).allowed_packages()) for name in domain]
    built = []
    for name, packages in package_sets:
        built.append(ensure_runtime(packages, rebuild=rebuild, log=lambda msg: console.print(f"  {escape(msg)}")))
        console.print(f"runtime ({name}): [green]ready[/] {escape(str(built[-1].root))}")
    if prune:
        for path in prune_runtimes(built):
            console.print(f"removed old runtime {escape(str(path))}")
