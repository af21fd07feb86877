"""Environment backends by name, imported lazily; `auto` is bwrap (it always runs where MAC runs)."""

from __future__ import annotations

import importlib
from typing import Any

from mac.environments.base import EnvironmentBackend
from mac.errors import ConfigError

ENV_BACKENDS: dict[str, str] = {
    "bwrap": "mac.environments.bwrap:BwrapEnvBackend",
    "podman": "mac.environments.container:PodmanEnvBackend",
    "docker": "mac.environments.container:DockerEnvBackend",
}
"""name -> "module:Class"."""


def backend_class(name: str) -> type[EnvironmentBackend]:
    try:
        target = ENV_BACKENDS[name]
    except KeyError:
        raise ConfigError(f"unknown environment backend {name!r}; known: auto, "
                          f"{', '.join(sorted(ENV_BACKENDS))}") from None
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def get_env_backend(name: str = "auto", **kwargs: Any) -> EnvironmentBackend:
    """An environment backend: `auto`/`bwrap` (default), `podman` or `docker` (when their CLI works; ConfigError
    naming the fix otherwise). Keyword arguments go to the constructor (e.g. `evidence=`)."""
    cls = backend_class("bwrap" if name == "auto" else name)
    ok, why = cls.available()
    if not ok:
        raise ConfigError(f"environment backend {name!r} is not usable here: {why}")
    return cls(**kwargs)


def availability() -> dict[str, tuple[bool, str]]:
    """Which backends this machine can run, and why not (for `mac env check` and the conformance suite)."""
    return {name: backend_class(name).available() for name in sorted(ENV_BACKENDS)}
