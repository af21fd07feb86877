"""What a trial's `config.json` and `result.json` hold. Both are versioned: reports outlive the code."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mac.config import Budget, Quota, TaskModelSpec, describe_validation
from mac.errors import StoreError
from mac.kinds import ResumePolicy, TrialStatus, Verdict
from mac.records import Usage

CONFIG_VERSION = "mac-trial-config-1"
RESULT_VERSION = "mac-trial-result-1"
STATUSES = ("running", "completed", "infrastructure_error", "failed", "interrupted")
FINISHED = ("completed", "infrastructure_error", "failed")
"""Statuses of a trial that ended (a resume keeps them; `--retry-failed` re-runs the last two)."""
DEFAULT_MAX_UPSTREAM_ERROR_RATE = 0.2


def parse_stored(model: type[BaseModel], data: Any, where: str) -> Any:
    """`model` from stored data (a dict or JSON text), or a StoreError naming `where` and each bad field."""
    try:
        if isinstance(data, (str, bytes)):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as exc:
        nulls = any(e.get("input") is None and e["type"] == "float_type" for e in exc.errors())
        hint = (" (an older MAC saved an infinite or NaN budget as null: this trial cannot be resumed or "
                "re-verified; run it again with finite budgets)") if nulls else ""
        raise StoreError(f"{where} cannot be read: {describe_validation(exc)}{hint}") from None


def load_stored(model: type[BaseModel], path: Path) -> Any:
    """`model` from the JSON file at `path` (OSError when it cannot be read, StoreError when it is invalid)."""
    return parse_stored(model, Path(path).read_text(encoding="utf-8"), str(path))


class TrialConfig(BaseModel):
    """Everything needed to run a trial, and to re-verify it from its folder (`mac verify TRIAL_DIR`)."""

    model_config = ConfigDict(extra="forbid")

    version: str = CONFIG_VERSION
    job: str
    trial: str
    domain: str
    data: str | None = None
    """Domain data folder (None: the domain's default: generated, or the user data dir)."""
    meta_agent: str
    meta_agent_options: dict[str, Any] = Field(default_factory=dict)
    """Adapter options, e.g. {"command": "..."} for `command`."""
    seed: int = Field(default=0, ge=0)
    task_model: TaskModelSpec = Field(default_factory=TaskModelSpec)
    budget: Budget = Field(default_factory=Budget)
    sandbox: str = "bwrap"
    sandbox_options: dict[str, Any] = Field(default_factory=dict)
    """The backend's options (its `Options` model, e.g. {"use_cgroups": false}); misspelt ones are refused."""
    test_seed_file: str | None = None
    """The seed file of a generated test split (arith; mac.domains.testseed): the one the job pinned, else the
    install's. Its path, never its value."""
    test_seed_fingerprint: str | None = None
    """The seed's fingerprint when the trial was created; `mac verify` refuses a seed file that no longer has it."""
    max_upstream_error_rate: float = Field(default=DEFAULT_MAX_UPSTREAM_ERROR_RATE, ge=0.0, le=1.0,
                                           allow_inf_nan=False)
    """Above this share of task-model calls failing upstream (5xx, connection errors, timeouts; not quota
    refusals) in any phase, the trial's status is `infrastructure_error`: its score is kept but not counted."""
    auditor: str | None = None
    """The LLM auditor, "openai:NAME" (None: the deterministic rules alone decide the integrity verdict)."""
    auditor_base_url: str | None = None
    """OpenAI-compatible base URL of `auditor` (its key: the controller's MAC_AUDITOR_API_KEY)."""
    created_at: float = Field(default_factory=time.time)

    @classmethod
    def load(cls, path: Path) -> TrialConfig:
        """A config.json; StoreError (naming the file and each bad field) when it is invalid."""
        return load_stored(cls, path)


class Score(BaseModel):
    """A split score: accuracy 0-100 over `total` problems."""

    accuracy: float = 0.0
    correct: int = 0
    total: int = 0


class DevScore(Score):
    """The best dev evaluation: which run, when (seconds after the trial started), on how many problems."""

    run_id: str = ""
    time_sec: float = 0.0
    first_k: int | None = None


class ExceptionInfo(BaseModel):
    type: str
    message: str
    traceback: str = ""


class PhaseTiming(BaseModel):
    """Wall clock of one phase; `error` when the phase raised (the trial goes on where it can)."""

    started_at: float
    finished_at: float | None = None
    duration_sec: float | None = None
    error: ExceptionInfo | None = None


class BudgetUse(BaseModel):
    dev_time_sec: float = 0.0
    """Wall clock the meta-agent actually ran."""
    dev_time_limit_sec: float = 0.0
    dev_quota: Quota = Field(default_factory=Quota)
    dev_usage: Usage = Field(default_factory=Usage)
    """What the dev token spent: the meta-agent's own calls plus every dev evaluation."""
    verify_quota: Quota = Field(default_factory=Quota)
    verify_usage: Usage = Field(default_factory=Usage)


class MetaAgentExit(BaseModel):
    returncode: int | None = None
    timed_out: bool = False
    """True when the development deadline ended it (its whole process tree was killed)."""
    killed_by: str | None = None
    wall_sec: float = 0.0
    stderr_tail: str = ""
    """The last lines of its stderr (scrubbed of its credentials, as trajectory/stderr.txt), to see why it ended."""


class MetaAgentUsage(BaseModel):
    """The meta-agent's own model use as its tool reported it (trajectory/usage.json); the task model's is `usage`."""

    model: str = ""
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = None
    """What the tool itself reported (None when it reports no cost, e.g. an unpriced model)."""

    def plus(self, other: MetaAgentUsage) -> MetaAgentUsage:
        costs = [c for c in (self.cost_usd, other.cost_usd) if c is not None]
        return MetaAgentUsage(model=self.model or other.model, model_calls=self.model_calls + other.model_calls,
                              input_tokens=self.input_tokens + other.input_tokens,
                              output_tokens=self.output_tokens + other.output_tokens,
                              cached_tokens=self.cached_tokens + other.cached_tokens,
                              cost_usd=round(sum(costs), 6) if costs else None)

    @staticmethod
    def total(items: list[MetaAgentUsage | None]) -> MetaAgentUsage | None:
        """The sum of the items that are there (None when none is)."""
        present = [u for u in items if u is not None]
        return functools.reduce(MetaAgentUsage.plus, present) if present else None


class ResumeRecord(BaseModel):
    """One `mac run --resume` of an interrupted trial: where it picked up and how (see mac.trial.resume)."""

    from_phase: str
    """The phase that was interrupted (or "prepare" when the trial had not started)."""
    at: float
    policy: ResumePolicy
    """"continue-development" (the rest of the dev budget, on the workspace as it was), "freeze-workspace",
    "verify-artifact", "audit-only", "start-over" or "retry" (a failed trial run again with --retry-failed)."""
    reason: str = ""
    """Why this policy (e.g. "25 s of 60 s of development left")."""
    dev_spent_sec: float = 0.0
    dev_left_sec: float = 0.0
    dev_usage_before: Usage = Field(default_factory=Usage)
    recovered_workspace: str | None = None
    recovered_logs: str | None = None
    """Where the interrupted meta-agent session's tool log was kept (trajectory/interrupted-N), or why it was not."""
    """Where the interrupted live workspace was recovered from (a stale scratch folder), if anywhere."""
    timings_before: dict[str, PhaseTiming] = Field(default_factory=dict)
    """The interrupted run's phase timings, kept as they were."""


class TrialResult(BaseModel):
    """`result.json`: the outcome of one trial. A missing or broken artifact scores 0 with `reason` set."""

    version: str = RESULT_VERSION
    job: str
    trial: str
    domain: str
    meta_agent: str
    meta_agent_options: dict[str, Any] = Field(default_factory=dict)
    seed: int
    task_model: str
    simulated: bool
    """True when the task model was `sim`: such scores say nothing about real models."""
    test_seed_fingerprint: str | None = None
    """Which secret test split a generated domain (arith) was scored on: the seed's fingerprint, never its value."""
    status: TrialStatus = "running"
    """See mac.kinds.TrialStatus: running, completed (a test score exists, possibly 0), failed (the harness could
    not finish), interrupted (`mac run --resume` continues it) or infrastructure_error (a score exists but too many
    task-model calls failed upstream: kept for inspection, left out of means). `mac run --resume JOB
    --retry-failed` runs "failed" and "infrastructure_error" trials again."""
    test: Score | None = None
    best_dev: DevScore | None = None
    dev_evals: int = 0
    budget_use: BudgetUse = Field(default_factory=BudgetUse)
    usage: dict[str, Usage] = Field(default_factory=dict)
    """Gateway usage per phase ("dev", "verify")."""
    timings: dict[str, PhaseTiming] = Field(default_factory=dict)
    meta_agent_exit: MetaAgentExit | None = None
    meta_agent_usage: MetaAgentUsage | None = None
    """The meta-agent's own model tokens and cost (real tools that report them; None for built-in meta-agents)."""
    artifact_sha256: str | None = None
    artifact_files: int = 0
    artifact_bytes: int = 0
    sandbox: dict[str, Any] = Field(default_factory=dict)
    """The backend's describe(): name, versions, active isolation features."""
    packages: dict[str, str] = Field(default_factory=dict)
    reason: str | None = None
    """Why the test score is 0 or missing: no artifact, broken artifact, harness error."""
    error: ExceptionInfo | None = None
    """The first phase error, if any."""
    integrity_verdict: Verdict | None = None
    """CLEAN, SUSPICIOUS or CHEATING from the audit phase (mac.audit; None: not audited). Details: audit.json."""
    findings: list[dict[str, Any]] = Field(default_factory=list)
    evidence_count: int = 0
    started_at: float = Field(default_factory=time.time)
    finished_at: float | None = None
    live_workspace: str | None = None
    """The meta-agent's live workspace while it is not workspace/ (a scratch folder): a resume recovers it."""
    scratch: str | None = None
    """The trial's scratch folder (removed when the trial ends; an interrupted trial's is recovered by a resume)."""
    resumed: list[ResumeRecord] = Field(default_factory=list)
    """Every `mac run --resume` that continued this trial after its controller died."""

    @property
    def meta_agent_label(self) -> str:
        """The meta-agent as leaderboards group it: its variant too (which baseline, which model of a real tool)."""
        variant = self.meta_agent_options.get("baseline") or self.meta_agent_options.get("model")
        return f"{self.meta_agent} ({variant})" if variant else self.meta_agent

    @classmethod
    def load(cls, path: Path) -> TrialResult:
        """A result.json; StoreError (naming the file and each bad field) when it is invalid."""
        return load_stored(cls, path)
