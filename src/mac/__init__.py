"""MAC: an open, self-hostable Meta-Agent Challenge."""

__version__ = "0.1.0"
