"""Joining or starting Ray for the Ray executor, and `mac ray start` (a node that can run trials).

A node can run trials when bubblewrap works on it; `mac ray start` checks that, then runs `ray start` with the
custom resource `mac_sandbox: N` (N trials at once; default: its CPUs), which every trial's actor asks for.
A Ray this executor starts itself (no address) is checked and marked the same way, binds to 127.0.0.1 only,
has no dashboard, sends no usage statistics, and gets an auth token of its own (never ~/.ray/auth_token).

Loopback and Ray 2.60: Ray replaces the literal 127.0.0.1 (or localhost), as a node address or in a cluster
address, with the machine's routable address (found with a UDP connect towards a public DNS server; no packet
is sent). The local Ray this executor starts stays on 127.0.0.1 by switching that lookup off while it starts.
A loopback-only cluster of several nodes on one machine (the tests) uses another loopback address that Ray
keeps as it is, e.g. `mac ray start --head --node-ip-address 127.0.0.2` and `--ray-address 127.0.0.2:PORT`.
Whatever the node address, gcs_server and raylet listen on every interface (Ray 2.60 has no option to bind
them): the auth token guards them.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sys
from typing import Any
from collections.abc import Iterator

from mac.errors import ConfigError, MacError

LOOPBACK = "127.0.0.1"
SANDBOX_RESOURCE = "mac_sandbox"
_QUIET = {"RAY_USAGE_STATS_ENABLED": "0"}
NODE_ENV = {**_QUIET, "RAY_worker_niceness": "0"}
"""For the Ray processes of a node that runs trials: Ray runs its workers at nice 15 by default, and a trial's
whole trusted side (and, inheriting it, its sandboxes) would then lose every contest for the CPU to Ray's own
daemons: about 40% slower on a busy 2-core machine."""


def check_bwrap() -> str:
    """Raise ConfigError unless a bubblewrap sandbox starts on this machine; its description otherwise."""
    from mac.sandbox import host

    try:
        bwrap = host.find_bwrap()
        ok, error = host.smoke_test(bwrap)
    except MacError as exc:
        ok, error = False, str(exc)
    if not ok:
        raise ConfigError(f"this node cannot run MAC sandboxes (bubblewrap: {error}); `mac sandbox check` shows "
                          "what is missing")
    return f"{bwrap.version} ({bwrap.path})"


def connect(ray: Any, address: str | None, *, num_cpus: int | None = None) -> dict[str, str | None]:
    """`ray.init` for the executor: join the cluster at `address` (checked to have a sandboxing node), or start
    a loopback-only Ray on this machine. Returns the environment variables it set, with their old values."""
    changed: dict[str, str | None] = {}

    def setenv(key: str, value: str) -> None:
        changed.setdefault(key, os.environ.get(key))
        os.environ[key] = value

    for key, value in _QUIET.items():
        setenv(key, value)
    if address is None:
        check_bwrap()
        if not (os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")):
            setenv("RAY_AUTH_TOKEN", secrets.token_hex(32))
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH"):
        if "RAY_AUTH_MODE" not in os.environ:  # a driver joining a cluster sends the token only in this mode
            setenv("RAY_AUTH_MODE", "token")
            _reload_ray_config()
    try:
        if address is None:
            cpus = num_cpus or os.cpu_count() or 1
            for key, value in NODE_ENV.items():  # read by the raylet this ray.init starts
                setenv(key, value)
            with _loopback_node_ip():
                ray.init(address="local", num_cpus=cpus, resources={SANDBOX_RESOURCE: cpus},
                         include_dashboard=False, _node_ip_address=LOOPBACK, log_to_driver=False)
        else:  # this driver's address: the one it reaches the head from (127.0.0.1 for a head there)
            ray.init(address=address, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(f"cannot reach Ray at {address or 'a local Ray'}: {exc} (for a cluster: set its auth "
                          "token in RAY_AUTH_TOKEN, check --ray-address)") from None
    _driver_messages_to_stderr()
    if not any(n.get("Alive") and n.get("Resources", {}).get(SANDBOX_RESOURCE) for n in ray.nodes()):
        ray.shutdown()
        raise ConfigError(f"no node of the Ray cluster at {address} can run trials (none has the resource "
                          f"{SANDBOX_RESOURCE}): start nodes with `mac ray start --address HEAD:PORT`")
    return changed


@contextlib.contextmanager
def _loopback_node_ip() -> Iterator[None]:
    from ray._private import ray_constants

    before = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False  # see the module docstring: keeps 127.0.0.1 as it is
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = before


def _driver_messages_to_stderr() -> None:
    """Ray prints cluster errors ("(raylet) Raylet is terminated ...") on the driver's stdout; they go to stderr,
    so stdout stays the command's own (`mac run --json`)."""
    from ray._private import worker

    printer = getattr(worker, "print_to_stdstream", None)
    if printer is None or getattr(printer, "_mac_stderr", False):
        return

    def to_stderr(data: dict[str, Any], ignore_prefix: bool) -> None:
        printer({**data, "is_err": True}, ignore_prefix)

    to_stderr._mac_stderr = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_stderr


def _reload_ray_config() -> None:
    from ray._raylet import Config  # type: ignore[attr-defined]

    Config.initialize("")  # Ray reads RAY_AUTH_MODE once; as ray's own token setup does after setting it


def start_command(args: list[str], sandboxes: int | None) -> tuple[list[str], dict[str, str]]:
    """The `ray start` command line of `mac ray start ARGS` and the environment it adds: ARGS plus the
    mac_sandbox resource (merged into a --resources given in ARGS) and --disable-usage-stats; workers at the
    normal CPU priority (NODE_ENV)."""
    args = list(args)
    env = dict(NODE_ENV)
    given = _option(args, "--resources", remove=True)
    resources = _resources(given) if given is not None else {}
    resources[SANDBOX_RESOURCE] = sandboxes or os.cpu_count() or 1
    ray = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")
    if ray is None:
        raise ConfigError("`ray` is not installed on this node: pip install 'mac-bench[ray]'")
    extra = [] if "--disable-usage-stats" in args else ["--disable-usage-stats"]
    return [ray, "start", *args, "--resources", json.dumps(resources), *extra], env


def _option(args: list[str], name: str, *, remove: bool = False) -> str | None:
    """The value of `--name VALUE` or `--name=VALUE` in `args` (taken out of them with `remove`)."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
            if remove:
                del args[i:i + 2]
            return value
        if arg.startswith(name + "="):
            if remove:
                del args[i]
            return arg.split("=", 1)[1]
    return None


def _resources(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ConfigError(f"--resources takes a JSON object (got {text!r})")
    return value
