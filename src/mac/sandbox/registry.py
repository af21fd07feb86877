"""Sandbox backends by name: one mapping line per backend, imported lazily."""

from __future__ import annotations

import importlib
from typing import Any

from mac.errors import ConfigError
from mac.sandbox.base import SandboxBackend

BACKENDS: dict[str, str] = {
    "bwrap": "mac.sandbox.bwrap:BwrapBackend",
    "none": "mac.sandbox.unsafe:UnsafeBackend",
}
"""name -> "module:Class". `none` runs without any isolation (debugging only)."""


def get_backend(name: str = "bwrap", **kwargs: Any) -> SandboxBackend:
    """A backend instance: `bwrap` (default, isolated) or `none` (a plain subprocess, isolates nothing).

    Keyword arguments go to the backend's constructor (e.g. `evidence=`). Raises ConfigError for an unknown name.
    """
    try:
        target = BACKENDS[name]
    except KeyError:
        raise ConfigError(f"unknown sandbox backend {name!r}; known: {', '.join(sorted(BACKENDS))}") from None
    module_name, _, class_name = target.partition(":")
    backend_class = getattr(importlib.import_module(module_name), class_name)
    return backend_class(**kwargs)


def backend_names() -> list[str]:
    return sorted(BACKENDS)
