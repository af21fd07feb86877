"""`mac` commands: audit (to be filled)."""

from mac.cli import app  # noqa: F401
