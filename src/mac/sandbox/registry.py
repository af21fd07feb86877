"""Sandbox backends by name (the `mac.sandboxes` plugin group), imported lazily.

    backend = get_backend("bwrap", evidence=log, runtime_packages=["sympy"])   # options: the backend's Options
    check_backend("none", {}, trial=True)     # ConfigError: isolates nothing (read from the class, not the name)
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping

from mac.errors import ConfigError
from mac.evidence import EvidenceLog
from mac.registry import Registry
from mac.sandbox.base import SandboxBackend

SANDBOXES: Registry[type[SandboxBackend]] = Registry("sandbox backend", group="mac.sandboxes", base=SandboxBackend)
"""Every sandbox backend by name: the built-ins and `mac.sandboxes` entry points of other packages."""
SANDBOXES.add("bwrap", "mac.sandbox.bwrap:BwrapBackend")
SANDBOXES.add("none", "mac.sandbox.unsafe:UnsafeBackend")  # runs without any isolation (debugging only)


def get_backend(name: str = "bwrap", evidence: EvidenceLog | None = None, **options: Any) -> SandboxBackend:
    """A backend instance: `bwrap` (default, isolated) or `none` (a plain subprocess, isolates nothing).

    `options` are the backend's typed options (its `Options` model); a misspelt one is a ConfigError, as is an
    unknown name."""
    backend_class = SANDBOXES.get(name)
    return backend_class(evidence, backend_class.options_from(options))


def check_backend(name: str, options: Mapping[str, Any], *, trial: bool = False) -> type[SandboxBackend]:
    """The backend class, once its name and options are known good; with `trial`, one that isolates (trials run
    the test split, which a backend without isolation must never see)."""
    backend_class = SANDBOXES.get(name)
    backend_class.options_from(options)
    if trial and not backend_class.isolated:
        raise ConfigError(f"sandbox {name!r} isolates nothing and is refused for trials (their verification runs "
                          "the test split): use --sandbox bwrap")
    return backend_class


def backend_names() -> list[str]:
    return SANDBOXES.names()
