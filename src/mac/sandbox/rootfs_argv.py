"""The bwrap command line of a task environment: an image's root filesystem with a copy-on-write overlay (see
`RootfsView`), the same namespaces, seccomp, size-limited /dev/shm and launch discipline as every sandbox.

Unlike an artifact sandbox the root stays writable (it is the attempt's overlay) and /tmp is part of it, as in a
container; the host's /usr is not there unless `host_runtime` asks for it; the command runs verbatim.
"""

from __future__ import annotations

from pathlib import Path

from mac.sandbox.argv import SYSTEM_LINKS, bwrap_argv, check_destination
from mac.sandbox.base import RootfsView, SandboxSpec
from mac.sandbox.runtime import Runtime

HOST_DIR = "/.mac/host"
"""Host folders of the in-environment server appear under this prefix, at their host path."""
RELAY_DIR = "/run/mac"


def _root(view: RootfsView) -> list[str]:
    if view.full_copy:
        return ["--bind", str(view.upper), "/"]
    return ["--overlay-src", str(view.lower), "--overlay", str(view.upper), str(view.work), "/"]


def _host_runtime() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in SYSTEM_LINKS:
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", str(host.readlink()), f"/{name}"]
        elif host.is_dir():
            args += ["--ro-bind", str(host), f"/{name}"]
    return args


def sandbox_argv(bwrap: Path, spec: SandboxSpec, runtime: Runtime, *, seccomp_fd: int | None,
                 status_fd: int) -> list[str]:
    """The command line of any spec: a task environment's (`spec.rootfs`) or an ordinary sandbox's."""
    if spec.rootfs is None:
        return bwrap_argv(bwrap, spec, runtime, seccomp_fd=seccomp_fd, status_fd=status_fd)
    return rootfs_argv(bwrap, spec, seccomp_fd=seccomp_fd, status_fd=status_fd)


def rootfs_argv(bwrap: Path, spec: SandboxSpec, *, seccomp_fd: int | None, status_fd: int) -> list[str]:
    view = spec.rootfs
    if view is None:
        raise ValueError("rootfs_argv is for specs with a rootfs (see sandbox_argv)")
    limits = spec.limits
    args = [str(bwrap), "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--uid", str(view.uid), "--gid", str(view.gid), "--hostname", "sandbox",
            "--clearenv", "--json-status-fd", str(status_fd), "--cap-drop", "ALL"]
    args += _root(view)
    if view.host_runtime:
        args += _host_runtime()
    for folder in view.host:
        args += ["--ro-bind", str(folder), f"{HOST_DIR}{folder}"]
    for bind in spec.extra_binds:
        args += ["--bind" if bind.writable else "--ro-bind", str(bind.src), check_destination(bind.dst)]
    for i, relay in enumerate(spec.relays):
        args += ["--ro-bind", str(Path(relay.socket).parent), f"{RELAY_DIR}/{i}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.shm_mb << 20), "--tmpfs", "/dev/shm"]
    args += ["--remount-ro", "/dev"]  # as every sandbox: /dev is an unbounded tmpfs otherwise (/dev/shm stays)
    for key, value in spec.env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", "/"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return [*args, "--", *spec.argv]
