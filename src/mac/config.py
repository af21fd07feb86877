"""Configuration models shared by every layer: quotas, sandbox limits, budgets, task-model specs.

Each is a pydantic model so the same dict travels over HTTP, into `config.json` and into reports unchanged.
Every number is validated where it is declared, so flags, job files and stored folders all get the same checks:
times are finite and positive (at most `MAX_SECONDS`), counts are integers in range. Assignments are validated
too (`validate_assignment`), so code that edits a model cannot slip a bad value past them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mac.errors import ConfigError

MAX_SECONDS = 30 * 24 * 3600.0
"""Longest time any budget may ask for (30 days): far above a 24 h trial, far below what overflows a clock."""
MAX_COUNT = 10**15
"""Largest quota count (requests, tokens): fits a signed 64-bit integer with room to add."""

Seconds = Annotated[float, Field(gt=0, le=MAX_SECONDS, allow_inf_nan=False)]
"""A duration: finite, positive, at most MAX_SECONDS."""
Amount = Annotated[int, Field(ge=0, le=MAX_COUNT)]
"""A quota count; 0 allows none."""
Rate = Annotated[int, Field(ge=1, le=MAX_COUNT)]
"""A limit that must let at least one thing through (concurrency, per-minute rates)."""
Size = Annotated[int, Field(ge=1, le=1 << 40)]
"""A positive size or count of a sandbox resource."""
Money = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]

_STRICT = ConfigDict(extra="forbid", validate_assignment=True)


def describe_validation(exc: ValidationError, *, prefix: str = "") -> str:
    """A pydantic error as one readable line per field ("budget.dev_time_sec: must be a finite number, got inf"),
    without pydantic's URLs: what a user needs to fix a flag, a job file or a stored folder."""
    lines = []
    for err in exc.errors()[:8]:
        where = ".".join(str(part) for part in (prefix, *err["loc"]) if part != "")
        got = err.get("input")
        shown = "null" if got is None else repr(got)[:60]
        lines.append(f"{where or 'value'}: {err['msg'].lower()} (got {shown})")
    more = len(exc.errors()) - len(lines)
    return "; ".join(lines) + (f"; and {more} more" if more > 0 else "")


def validated(model: type[Any], data: Any, *, what: str) -> Any:
    """`model.model_validate(data)`, with a ConfigError naming `what` and each bad field instead of pydantic's."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{what}: {describe_validation(exc)}") from None


class Quota(BaseModel):
    """Limits on one gateway token. `None` means unlimited."""

    model_config = _STRICT

    requests: Amount | None = None
    """Chat completions, where a request with `n` choices counts as n."""
    input_tokens: Amount | None = None
    output_tokens: Amount | None = None
    """Output-only budgets matter for reasoning models, whose cost is mostly output."""
    concurrent: Rate | None = None
    """Requests in flight at once."""
    rpm: Rate | None = None
    """Requests per rolling minute."""
    tpm: Rate | None = None
    """Tokens (input + output) per rolling minute."""
    cost_usd: Money | None = None
    """Spend cap, using the backend's prices."""


class SandboxLimits(BaseModel):
    """Resource bounds of one sandbox. Enforced with cgroups where writable, rlimits always."""

    model_config = _STRICT

    wall_sec: Seconds = 600.0
    """Wall clock; at expiry the whole process tree dies."""
    memory_mb: Size = 2048
    pids: Size = 256
    cpus: Annotated[float, Field(gt=0, le=4096, allow_inf_nan=False)] = 1.0
    """CPU share in cores (cgroup cpu quota); ignored where no cpu controller is writable."""
    file_size_mb: Size = 256
    """Largest single file (RLIMIT_FSIZE)."""
    tmp_mb: Size = 256
    """Size of the private /tmp tmpfs."""
    shm_mb: Size = 64
    output_bytes: Size = 4 << 20
    """stdout and stderr are each kept up to this many bytes; the rest is drained and counted."""
    nofile: Annotated[int, Field(ge=16, le=1 << 20)] = 1024
    disk_mb: Size = 4096
    """How much the writable binds (a dev workspace, /mac/out) may grow during the run; checked four times a
    second, and the sandbox is killed past it (tmpfs sizes bound /tmp and /dev/shm)."""


class Budget(BaseModel):
    """The budgets of one trial: development time and models, then verification."""

    model_config = _STRICT

    dev_time_sec: Seconds = 12 * 3600
    """Wall clock of the development phase (the meta-agent's whole life)."""
    dev_quota: Quota = Field(default_factory=Quota)
    """Task-model quota shared by all dev evaluations of the trial."""
    eval_timeout_sec: Seconds = 1800
    """Default and maximum timeout of one dev evaluation."""
    verify_timeout_sec: Seconds = 1800
    """Timeout of the artifact's run on the test split."""
    verify_quota: Quota = Field(default_factory=Quota)
    eval_limits: SandboxLimits = Field(default_factory=SandboxLimits)
    """Sandbox limits of artifact runs (dev evaluations and verification); wall clock comes from the timeouts."""
    dev_limits: SandboxLimits = Field(default_factory=lambda: SandboxLimits(memory_mb=4096, pids=512, cpus=1.0))
    """Sandbox limits of the meta-agent; wall clock comes from `dev_time_sec`."""


class TaskModelSpec(BaseModel):
    """Which task model the gateway fronts: `sim`, or `openai:NAME` with a base URL."""

    model_config = _STRICT

    backend: str = "sim"
    name: str = "sim"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the controller's environment variable that holds the upstream key (never the key itself)."""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    """Seed of the `sim` backend."""
    price_input_per_mtok: Money = 0.0
    """USD per million input tokens, for the `cost_usd` quota (0: cost is not metered)."""
    price_output_per_mtok: Money = 0.0
    """USD per million output tokens."""
    max_output_tokens: int = Field(default=32768, ge=1)
    """The model's output limit per reply: the gateway reserves this much of the output and cost quotas for a
    request that names no max_tokens (so quotas hold under concurrency); set it to the model's real limit."""

    @property
    def simulated(self) -> bool:
        return self.backend == "sim"

    @classmethod
    def parse(cls, text: str, base_url: str | None = None, seed: int = 0) -> TaskModelSpec:
        """`sim`, `openai:NAME` (the CLI's `--task-model`) or `BACKEND:NAME` of a plugin's gateway backend."""
        if text == "sim":
            return cls(backend="sim", name="sim", seed=seed)
        backend, sep, name = text.partition(":")
        if not sep or not _BACKEND_NAME.match(backend) or backend == "sim" or not name:
            raise ConfigError(f"unknown task model {text!r}: use 'sim' or 'openai:MODEL_NAME' (with --base-url URL)")
        default_url = "https://api.openai.com/v1" if backend == "openai" else None
        return cls(backend=backend, name=name, base_url=base_url or default_url, seed=seed)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        if not _BACKEND_NAME.match(v):  # which names exist is the gateway registry's to say (mac.gateway.backend)
            raise ValueError("backend must be 'sim', 'openai' or a plugin's backend name")
        return v


_BACKEND_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def check_seconds(value: float | None, flag: str) -> float | None:
    """A time flag: None stays None; otherwise finite, positive and at most MAX_SECONDS, or a ConfigError."""
    if value is not None and not (value == value and 0 < value <= MAX_SECONDS):  # value != value: NaN
        raise ConfigError(f"{flag} must be a finite number of seconds above 0 and at most {MAX_SECONDS:g} "
                          f"(got {value})")
    return value


def check_rate(value: float, flag: str) -> float:
    """A share from 0 to 1, or a ConfigError."""
    if not (value == value and 0.0 <= value <= 1.0):
        raise ConfigError(f"{flag} must be a number from 0 to 1 (got {value})")
    return value
