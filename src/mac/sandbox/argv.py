"""The bwrap command line for one SandboxSpec: data in, an argv list out (never a shell string).

Mount order matters: later mounts shadow earlier ones, so the size-limited /tmp comes first (a bind under /tmp
placed before it would vanish), and `--remount-ro /` comes last (after it, no mount point can be created).

Every role gets a read-only /dev (bwrap's /dev is a tmpfs that is otherwise writable and not size-limited: a
sandbox could fill memory outside its tmpfs sizes); /dev/shm is a separate, size-limited tmpfs. Role "exec"
adds `--as-pid-1` (the command is the namespace's init: signals from inside it are dropped unless it handles
them, and its exit kills everything else inside).
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from mac.errors import ConfigError
from mac.sandbox.base import SandboxSpec
from mac.sandbox.runtime import SANDBOX_UID, Runtime

RELAY_DIR = "/run/mac"
"""Relay i's host socket folder appears at /run/mac/<i>/."""
SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
ETC_FROM_HOST = ("ssl", "ca-certificates", "ca-certificates.conf", "pki", "alternatives", "ld.so.cache",
                 "localtime", "mime.types")
"""Certificates, library cache and harmless system data. Not passwd/hosts: those come from the runtime."""
RESERVED = ("/proc", "/dev", "/usr", "/etc", "/run/mac", "/tmp", "/mac/in", "/mac/out", "/workspace")


def sandbox_env(spec: SandboxSpec, runtime: Runtime) -> dict[str, str]:
    """Exactly `spec.env` plus PATH, HOME and LANG (spec values win)."""
    home = "/workspace" if spec.workspace is not None and spec.workspace_writable else "/tmp"
    base = {"PATH": f"{runtime.prefix}/bin:/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}
    return {**base, **spec.env}


def command(spec: SandboxSpec, runtime: Runtime) -> list[str]:
    """The command inside: a leading "python" is the runtime's; with relays, the init runs it as its child."""
    if not spec.argv:
        raise ConfigError("SandboxSpec.argv is empty: give the command to run")
    argv = list(spec.argv)
    if argv[0] in ("python", "python3"):
        argv[0] = str(runtime.python)
    if not spec.relays:
        return argv
    init = [str(runtime.python), "-I", "-S", str(runtime.init)]
    for i, relay in enumerate(spec.relays):
        init += ["--relay", f"{relay.port}={RELAY_DIR}/{i}/{Path(relay.socket).name}"]
    return [*init, "--", *argv]


def check_destination(dst: str) -> str:
    path = PurePosixPath(dst)
    if not path.is_absolute() or ".." in path.parts or str(path) == "/":
        raise ConfigError(f"bind destination {dst!r} must be an absolute path without '..'")
    for reserved in RESERVED:
        if str(path) == reserved or str(path).startswith(reserved + "/"):
            raise ConfigError(f"bind destination {dst!r} is reserved by the sandbox ({reserved}); pick another")
    return str(path)


def _system() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in SYSTEM_LINKS:
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{name}"]
    for name in ETC_FROM_HOST:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _views(spec: SandboxSpec, runtime: Runtime) -> list[str]:
    args = []
    for name in sorted(os.listdir(runtime.etc)):
        args += ["--ro-bind", str(runtime.etc / name), f"/etc/{name}"]
    for folder in runtime.binds:
        args += ["--ro-bind", str(folder), str(folder)]
    if spec.workspace is not None:
        args += ["--bind" if spec.workspace_writable else "--ro-bind", str(spec.workspace), "/workspace"]
    if spec.inputs is not None:
        args += ["--ro-bind", str(spec.inputs), "/mac/in"]
    if spec.outputs is not None:
        args += ["--bind", str(spec.outputs), "/mac/out"]
    for bind in spec.extra_binds:
        args += ["--bind" if bind.writable else "--ro-bind", str(bind.src), check_destination(bind.dst)]
    for i, relay in enumerate(spec.relays):
        args += ["--ro-bind", str(Path(relay.socket).parent), f"{RELAY_DIR}/{i}"]
    return args


def bwrap_argv(bwrap: Path, spec: SandboxSpec, runtime: Runtime, *, seccomp_fd: int | None,
               status_fd: int) -> list[str]:
    limits = spec.limits
    cwd = spec.cwd if spec.workspace is not None or not spec.cwd.startswith("/workspace") else "/tmp"
    exec_role = spec.role == "exec"
    args = [str(bwrap), "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox",
            "--clearenv", "--json-status-fd", str(status_fd)] + (["--as-pid-1"] if exec_role else [])
    args += ["--size", str(limits.tmp_mb << 20), "--tmpfs", "/tmp"]
    args += _system()
    args += _views(spec, runtime)
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.shm_mb << 20), "--tmpfs", "/dev/shm"]
    args += ["--remount-ro", "/dev"]  # not recursive: /dev/shm stays writable (and size-limited)
    for key, value in sandbox_env(spec, runtime).items():
        args += ["--setenv", key, value]
    args += ["--chdir", cwd, "--remount-ro", "/"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return [*args, "--", *command(spec, runtime)]
