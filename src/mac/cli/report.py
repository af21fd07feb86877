"""`mac` commands: report (to be filled)."""

from mac.cli import app  # noqa: F401
