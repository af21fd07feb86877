"""Egress allowlist rules: which `host:port` a meta-agent may reach through the egress proxy.

    rules = Allowlist(["api.anthropic.com", "*.googleapis.com", "host.mac.internal:8000"])
    rules.allows("api.anthropic.com", 443)      # True: a bare host allows ports 443 and 80
    rules.allows("evil.example", 443)            # False

Entries: `host` (ports 80 and 443), `host:port` (that port only), `*.suffix` (any subdomain, ports 80/443),
`*.suffix:port`. Hosts compare case-insensitively; IP literals are hosts like any other (no wildcard matches
them). There is no "allow everything" entry on purpose.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from mac.errors import ConfigError

DEFAULT_PORTS = (443, 80)
HOST_ALIAS = "host.mac.internal"
"""Inside the meta-agent's sandbox, the controller's own loopback (e.g. a local vLLM on 127.0.0.1:8000)."""


@dataclass(frozen=True)
class Rule:
    host: str
    ports: tuple[int, ...]
    wildcard: bool = False

    def matches(self, host: str, port: int) -> bool:
        if port not in self.ports:
            return False
        if self.wildcard:
            return host.endswith("." + self.host)
        return host == self.host

    def __str__(self) -> str:
        name = f"*.{self.host}" if self.wildcard else self.host
        return name if self.ports == DEFAULT_PORTS else f"{name}:{self.ports[0]}"


def parse_rule(entry: str) -> Rule:
    text = entry.strip().lower()
    if "://" in text:  # a URL was given: keep its host and port
        parts = urlsplit(text)
        text = parts.hostname or ""
        if parts.port:
            text += f":{parts.port}"
    host, port = split_host_port(text)
    wildcard = host.startswith("*.")
    host = host[2:] if wildcard else host
    if not host or "*" in host or "/" in host or " " in host:
        raise ConfigError(f"bad egress allowlist entry {entry!r}: use host, host:port or *.domain")
    return Rule(host=host, ports=(port,) if port else DEFAULT_PORTS, wildcard=wildcard)


def split_host_port(text: str, default: int | None = None) -> tuple[str, int | None]:
    """'h:1' -> ('h', 1); '[::1]:2' -> ('::1', 2); 'h' -> ('h', default). ConfigError on a bad port."""
    host, port = text, None
    if text.startswith("["):
        end = text.find("]")
        host, rest = text[1:end], text[end + 1:]
        port = rest[1:] if rest.startswith(":") else None
    elif text.count(":") == 1:
        host, port = text.split(":")
    if port is None:
        return host.lower(), default
    if not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise ConfigError(f"bad port in {text!r}")
    return host.lower(), int(port)


class Allowlist:
    """The hosts a trial's meta-agent may reach. Empty: nothing (every attempt is denied and logged)."""

    def __init__(self, entries: list[str] | tuple[str, ...] = ()):
        self.rules = [parse_rule(e) for e in entries if e.strip()]

    def allows(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        return any(rule.matches(host, port) for rule in self.rules)

    def entries(self) -> list[str]:
        return [str(r) for r in self.rules]


DEFAULT_INDEX_HOSTS = ("pypi.org:443", "files.pythonhosted.org:443")


def package_index_hosts() -> list[str]:
    """host:port pairs of the package index: PyPI, or the controller's UV_INDEX_URL / PIP_INDEX_URL and extras."""
    hosts = []
    for name in ("UV_INDEX_URL", "PIP_INDEX_URL", "UV_EXTRA_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        for url in os.environ.get(name, "").split():
            parts = urlsplit(url)
            if parts.hostname:
                hosts.append(f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}")
    return hosts or list(DEFAULT_INDEX_HOSTS)
