"""Environment backends by name (the `mac.environments` plugin group), imported lazily; `auto` is bwrap (it runs
wherever MAC runs).

    backend = get_env_backend("auto", evidence=log)     # bwrap, podman or docker
    availability()                                       # {name: (usable here, why not)}
"""

from __future__ import annotations

from typing import Any

from mac.environments.base import EnvironmentBackend
from mac.errors import ConfigError
from mac.registry import Registry

ENVIRONMENTS: Registry[type[EnvironmentBackend]] = Registry("environment backend", group="mac.environments",
                                                            base=EnvironmentBackend)
"""Every environment backend by name: the built-ins and `mac.environments` entry points of other packages."""
ENVIRONMENTS.add("bwrap", "mac.environments.bwrap:BwrapEnvBackend")
ENVIRONMENTS.add("podman", "mac.environments.container:PodmanEnvBackend")
ENVIRONMENTS.add("docker", "mac.environments.container:DockerEnvBackend")


def backend_class(name: str) -> type[EnvironmentBackend]:
    """The backend class registered as `name` (`auto` is bwrap); ConfigError listing the known names."""
    return ENVIRONMENTS.get("bwrap" if name == "auto" else name)


def get_env_backend(name: str = "auto", **kwargs: Any) -> EnvironmentBackend:
    """An environment backend: `auto`/`bwrap` (default), `podman` or `docker` (when their CLI works; ConfigError
    naming the fix otherwise). Keyword arguments go to the constructor (e.g. `evidence=`)."""
    cls = backend_class(name)
    ok, why = cls.available()
    if not ok:
        raise ConfigError(f"environment backend {name!r} is not usable here: {why}")
    return cls(**kwargs)


def availability() -> dict[str, tuple[bool, str]]:
    """Which backends this machine can run, and why not (for `mac env check` and the conformance suite)."""
    return {name: backend_class(name).available() for name in ENVIRONMENTS.names()}
