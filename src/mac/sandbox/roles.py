"""What each sandbox role may be given. Backends call `check_role` before starting anything, so a caller that
asks an "exec" sandbox for a relay or a writable folder gets a ConfigError instead of a weaker sandbox."""

from __future__ import annotations

from mac.errors import ConfigError
from mac.sandbox.base import SandboxSpec



def check_role(spec: SandboxSpec) -> None:
    """Raise ConfigError when `spec` asks for something its role must not have (today only "exec" is narrowed)."""
    if spec.role != "exec":
        return
    refused = [name for name, asked in (
        ("relays (an exec sandbox has no network at all)", bool(spec.relays)),
        ("allow_package_index", spec.allow_package_index),
        ("a writable workspace", spec.workspace_writable),
        ("an outputs folder (/mac/out)", spec.outputs is not None),
        ("writable extra binds", any(b.writable for b in spec.extra_binds)),
    ) if asked]
    if refused:
        raise ConfigError(f"sandbox {spec.label!r} has role 'exec' (candidate code), which cannot have "
                          f"{', '.join(refused)}: pass data on stdin (interactive=True) or as read-only binds")
