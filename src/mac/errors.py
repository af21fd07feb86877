"""The one exception hierarchy of MAC. Callers catch `MacError`; foreign errors are converted at the boundary.

    MacError
    ├── ConfigError          bad flags, config files or names (message names the fix)
    ├── DataError            missing or invalid domain data (message names file, line and field)
    ├── SandboxError         the isolation backend cannot run (message names the fix)
    ├── ArtifactError        an artifact cannot be loaded or run (scored 0 / partial, never a crash)
    ├── GatewayError         the model gateway cannot start or reach upstream
    │   └── PreflightError   a model endpoint failed its check before a run (unreachable, bad key, wrong model)
    ├── StoreError           a stored job or trial file cannot be read (also a ValueError; names file and field)
    ├── ImageError           a task image cannot be read, fetched, built or unpacked
    ├── EnvError             a task environment cannot start, or an operation on it failed
    └── QuotaExceeded        a quota was hit; carries which one and the numbers
"""

from __future__ import annotations


class MacError(Exception):
    """Base class of every error MAC raises on purpose."""


class ConfigError(MacError):
    pass


class DataError(MacError):
    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, field: str | None = None):
        where = ":".join(str(p) for p in (file, line) if p is not None)
        parts = [p for p in (where, f"field {field!r}" if field else None, message) if p]
        super().__init__(": ".join(parts))
        self.file, self.line, self.field = file, line, field


class SandboxError(MacError):
    pass


class ArtifactError(MacError):
    pass


class GatewayError(MacError):
    pass


class ImageError(MacError):
    pass


class EnvError(MacError):
    pass


class PreflightError(GatewayError):
    """A model endpoint failed the check made before any budget is spent (mac.preflight)."""


class StoreError(MacError, ValueError):
    """A job or trial file that cannot be read; a ValueError too, so readers that skip bad files still do."""


class QuotaExceeded(MacError):
    """A quota breach: `quota` names it (e.g. "output_tokens"), with the value it would reach and the limit.
    `held`: the room is taken by reservations of requests still in flight (retrying later may succeed)."""

    def __init__(self, quota: str, value: float, limit: float, *, held: bool = False):
        super().__init__(f"quota {quota!r} exhausted: {value:g} > limit {limit:g}")
        self.quota, self.value, self.limit, self.held = quota, value, limit, held
