"""`mac` commands: demo (to be filled)."""

from mac.cli import app  # noqa: F401
