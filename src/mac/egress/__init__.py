"""The egress proxy: a meta-agent's only route out of its sandbox, to its own model API hosts (allowlist)."""

from mac.egress.proxy import EGRESS_PORT, EgressProxy, proxy_environment
from mac.egress.rules import HOST_ALIAS, Allowlist

__all__ = ["EGRESS_PORT", "HOST_ALIAS", "Allowlist", "EgressProxy", "proxy_environment"]
