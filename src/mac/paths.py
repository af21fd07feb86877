"""Where MAC keeps things on the host.

Trusted-side state (data with answers, job results) may live in private folders. The sandbox runtime and
per-run scratch folders must be traversable by the unprivileged sandbox uids, so as root they live under
world-traversable system folders rather than under a 0700 home.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def is_root() -> bool:
    return os.geteuid() == 0


def data_home() -> Path:
    """User data dir for imported/pulled domain data (`$MAC_DATA`)."""
    env = os.environ.get("MAC_DATA")
    return Path(env) if env else Path(platformdirs.user_data_dir("mac")) / "data"


def secrets_home() -> Path:
    """Controller-only secrets such as the seed of arith's test split (`$MAC_SECRETS`; default beside the user
    data dir). Never bound into a sandbox; files in it are 0600."""
    env = os.environ.get("MAC_SECRETS")
    return Path(env) if env else Path(platformdirs.user_data_dir("mac")) / "secrets"


def runtime_home() -> Path:
    """Cached sandbox runtime environments (`$MAC_RUNTIME`); must be readable by sandbox uids."""
    env = os.environ.get("MAC_RUNTIME")
    if env:
        return Path(env)
    return Path("/var/cache/mac/runtime") if is_root() else Path(platformdirs.user_cache_dir("mac")) / "runtime"


def scratch_home() -> Path:
    """Per-run scratch folders: snapshots, sockets, outputs (`$MAC_SCRATCH`); traversable by sandbox uids."""
    env = os.environ.get("MAC_SCRATCH")
    base = Path(env) if env else Path("/var/tmp") / f"mac-{os.geteuid()}"
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o711)
    return base


def jobs_home() -> Path:
    return Path(os.environ.get("MAC_JOBS", "jobs"))
