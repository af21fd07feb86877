"""Isolation backends for untrusted code. See `mac.sandbox.base` for the contract."""

from typing import Any

from mac.sandbox.base import Bind, Relay, SandboxBackend, SandboxProcess, SandboxResult, SandboxSpec

__all__ = ["Bind", "Relay", "SandboxBackend", "SandboxProcess", "SandboxResult", "SandboxSpec", "get_backend"]


def get_backend(name: str = "bwrap", **kwargs: Any) -> SandboxBackend:
    """`bwrap` (default) or `none` (unsandboxed, debugging only)."""
    from mac.sandbox.registry import get_backend as _get

    return _get(name, **kwargs)
