"""Domains: task families as plugins over `mac.domains.base.Domain`."""

from mac.domains.base import Domain, InstructionContext, domain_names, get_domain, register
from mac.domains.grader import Grade

__all__ = ["Domain", "Grade", "InstructionContext", "domain_names", "get_domain", "load_builtin", "register"]


def load_builtin() -> None:
    """Import the built-in domain modules (each registers itself)."""
    from mac.domains import aime, arith, lcb, science  # noqa: F401
