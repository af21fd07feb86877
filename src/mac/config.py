"""Configuration models shared by every layer: quotas, sandbox limits, budgets, task-model specs.

Each is a pydantic model so the same dict travels over HTTP, into `config.json` and into reports unchanged.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mac.errors import ConfigError


class Quota(BaseModel):
    """Limits on one gateway token. `None` means unlimited."""

    model_config = ConfigDict(extra="forbid")

    requests: int | None = None
    """Chat completions, where a request with `n` choices counts as n."""
    input_tokens: int | None = None
    output_tokens: int | None = None
    """Output-only budgets matter for reasoning models, whose cost is mostly output."""
    concurrent: int | None = None
    """Requests in flight at once."""
    rpm: int | None = None
    """Requests per rolling minute."""
    tpm: int | None = None
    """Tokens (input + output) per rolling minute."""
    cost_usd: float | None = None
    """Spend cap, using the backend's prices."""


class SandboxLimits(BaseModel):
    """Resource bounds of one sandbox. Enforced with cgroups where writable, rlimits always."""

    model_config = ConfigDict(extra="forbid")

    wall_sec: float = 600.0
    """Wall clock; at expiry the whole process tree dies."""
    memory_mb: int = 2048
    pids: int = 256
    cpus: float = 1.0
    """CPU share in cores (cgroup cpu quota); ignored where no cpu controller is writable."""
    file_size_mb: int = 256
    """Largest single file (RLIMIT_FSIZE)."""
    tmp_mb: int = 256
    """Size of the private /tmp tmpfs."""
    shm_mb: int = 64
    output_bytes: int = 4 << 20
    """stdout and stderr are each kept up to this many bytes; the rest is drained and counted."""
    nofile: int = 1024
    disk_mb: int = 4096
    """How much the writable binds (a dev workspace, /mac/out) may grow during the run; checked four times a
    second, and the sandbox is killed past it (tmpfs sizes bound /tmp and /dev/shm)."""


class Budget(BaseModel):
    """The budgets of one trial: development time and models, then verification."""

    model_config = ConfigDict(extra="forbid")

    dev_time_sec: float = 12 * 3600
    """Wall clock of the development phase (the meta-agent's whole life)."""
    dev_quota: Quota = Field(default_factory=Quota)
    """Task-model quota shared by all dev evaluations of the trial."""
    eval_timeout_sec: float = 1800
    """Default and maximum timeout of one dev evaluation."""
    verify_timeout_sec: float = 1800
    """Timeout of the artifact's run on the test split."""
    verify_quota: Quota = Field(default_factory=Quota)
    eval_limits: SandboxLimits = Field(default_factory=SandboxLimits)
    """Sandbox limits of artifact runs (dev evaluations and verification); wall clock comes from the timeouts."""
    dev_limits: SandboxLimits = Field(default_factory=lambda: SandboxLimits(memory_mb=4096, pids=512, cpus=1.0))
    """Sandbox limits of the meta-agent; wall clock comes from `dev_time_sec`."""


class TaskModelSpec(BaseModel):
    """Which task model the gateway fronts: `sim`, or `openai:NAME` with a base URL."""

    model_config = ConfigDict(extra="forbid")

    backend: str = "sim"
    name: str = "sim"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the controller's environment variable that holds the upstream key (never the key itself)."""
    seed: int = 0
    """Seed of the `sim` backend."""
    price_input_per_mtok: float = 0.0
    """USD per million input tokens, for the `cost_usd` quota (0: cost is not metered)."""
    price_output_per_mtok: float = 0.0
    """USD per million output tokens."""

    @property
    def simulated(self) -> bool:
        return self.backend == "sim"

    @classmethod
    def parse(cls, text: str, base_url: str | None = None, seed: int = 0) -> "TaskModelSpec":
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
