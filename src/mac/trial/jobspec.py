"""The job spec: everything `mac run` takes, as one validated model. `jobs/<job>/job.json` keeps it.

    spec = load_job_spec(["job.toml", "seeds=5"], {"budget.preset": "demo"})   # mac.trial.jobfile
    spec = prepare_spec(spec)          # named, paths absolute, checked against the registries; ConfigError if not
    configs = trial_configs(spec)      # one TrialConfig per seed: what an executor runs

A job file (TOML; relative paths are relative to the file):

    domain = "aime"
    data = "data/aime"
    meta_agent = "command"
    seeds = 3
    task_model = "openai:qwen3-32b"
    base_url = "http://127.0.0.1:8000/v1"
    price_input_per_mtok = 0.10
    price_output_per_mtok = 0.30

    [meta_agent_options]
    command = "python /opt/builder/build.py"
    mounts = ["/opt/builder"]

    [budget]
    preset = "full"
    dev_time = 7200
    dev_cost_usd = 20.0

The spec never holds a secret: keys stay in the controller's environment and the spec names the variable.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mac.config import Budget, TaskModelSpec
from mac.errors import ConfigError
from mac.store.models import TrialConfig
from mac.store.paths import check_name

JOB_SPEC_VERSION: Final = "mac-job-1"
SEEDS_MAX = 1000
CONCURRENCY_MAX = 256

PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
PositiveCount = Annotated[int, Field(gt=0)]
Dollars = Annotated[float, Field(gt=0, allow_inf_nan=False)]
PricePerMtok = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class BudgetSpec(BaseModel):
    """Each trial's budget: a preset of the domain's budget, then the per-field overrides (None keeps a field)."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal["full", "demo", "smoke"] = "full"
    """full: the domain's own (12 h of development for aime and science); demo: 30 s; smoke: 10 s."""
    dev_time: PositiveSeconds | None = None
    """Development seconds."""
    eval_timeout: PositiveSeconds | None = None
    """Most seconds of one dev evaluation."""
    verify_timeout: PositiveSeconds | None = None
    """Seconds of the artifact's run on the test split."""
    dev_requests: PositiveCount | None = None
    dev_output_tokens: PositiveCount | None = None
    verify_requests: PositiveCount | None = None
    dev_cost_usd: Dollars | None = None
    """Spend cap of the development phase (needs the task model's prices)."""
    verify_cost_usd: Dollars | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    """Any other `mac.config.Budget` field, merged last (e.g. {"dev_limits": {"memory_mb": 8192}})."""

    def build(self, default: Budget) -> Budget:
        """The budget of one trial of a domain whose own budget is `default`."""
        from mac.trial.budgets import budget_preset, override_budget

        budget = override_budget(budget_preset(self.preset, default), dev_time=self.dev_time,
                                 eval_timeout=self.eval_timeout, verify_timeout=self.verify_timeout,
                                 dev_requests=self.dev_requests, dev_output_tokens=self.dev_output_tokens,
                                 verify_requests=self.verify_requests)
        if self.dev_cost_usd is not None:
            budget.dev_quota.cost_usd = self.dev_cost_usd
        if self.verify_cost_usd is not None:
            budget.verify_quota.cost_usd = self.verify_cost_usd
        if self.fields:
            from mac.trial.jobfile import deep_merge, validation_message

            try:
                budget = Budget.model_validate(deep_merge(budget.model_dump(), self.fields))
            except ValueError as exc:
                raise ConfigError(f"budget.fields: {validation_message(exc)}") from None
        return budget


class JobSpec(BaseModel):
    """One job: META_AGENT on DOMAIN for `seeds` seeds (first_seed, first_seed+1, ...). See the module docstring."""

    model_config = ConfigDict(extra="forbid")

    version: Literal["mac-job-1"] = JOB_SPEC_VERSION
    job: str | None = None
    """The job's name, its folder under `jobs_dir` (default: time + domain + meta-agent)."""
    domain: str
    data: str | None = None
    """Domain data folder (dev.jsonl, test.jsonl); None: the domain's own (generated, or $MAC_DATA/<domain>)."""
    meta_agent: str = "reference"
    meta_agent_options: dict[str, Any] = Field(default_factory=dict)
    """The adapter's options: `command` and `mounts` (command), `baseline` (baseline), `model`, `base_url`,
    `egress_allow` (real tools)."""
    seeds: int = Field(1, ge=1, le=SEEDS_MAX)
    first_seed: int = Field(0, ge=0)
    task_model: str = "sim"
    """`sim` (simulated, offline) or `openai:MODEL_NAME`."""
    base_url: str | None = None
    """OpenAI-compatible upstream of `openai:MODEL_NAME` (default: https://api.openai.com/v1)."""
    api_key_env: str = "OPENAI_API_KEY"
    """The controller's environment variable that holds the upstream key."""
    price_input_per_mtok: PricePerMtok = 0.0
    """USD per million input tokens of the task model: what the cost quotas (`budget.*_cost_usd`) meter."""
    price_output_per_mtok: PricePerMtok = 0.0
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    sandbox: str = "bwrap"
    sandbox_options: dict[str, Any] = Field(default_factory=dict)
    """The backend's options (its typed `Options` model)."""
    auditor_model: str | None = None
    """LLM auditor, `openai:MODEL_NAME` (None: the deterministic rules alone)."""
    auditor_base_url: str | None = None
    test_seed_file: str | None = None
    """Pins a generated domain's secret test seed (arith) for reproducible published numbers."""
    concurrency: int = Field(2, ge=1, le=CONCURRENCY_MAX)
    """Trials at once."""
    jobs_dir: str | None = None
    """Where job folders go (default ./jobs, or $MAC_JOBS)."""

    @field_validator("job")
    @classmethod
    def _job_name(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                check_name(v, "job")
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("task_model")
    @classmethod
    def _task_model(cls, v: str) -> str:
        try:
            TaskModelSpec.parse(v)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        return v

    def task_model_spec(self) -> TaskModelSpec:
        spec = TaskModelSpec.parse(self.task_model, base_url=self.base_url)
        return spec.model_copy(update={"api_key_env": self.api_key_env,
                                       "price_input_per_mtok": self.price_input_per_mtok,
                                       "price_output_per_mtok": self.price_output_per_mtok})

    @property
    def suffix(self) -> str:
        """What trial names add for a variant of the meta-agent (the baseline's kind)."""
        variant = self.meta_agent_options.get("baseline") if self.meta_agent == "baseline" else None
        return f"-{variant}" if variant else ""


def prepare_spec(spec: JobSpec) -> JobSpec:
    """The spec a job runs and stores: named, with absolute paths and the adapter's normalised options, and
    checked against everything that could only fail later (names, data, keys, options). Raises ConfigError."""
    from mac.metaagents import get_metaagent
    from mac.paths import jobs_home
    from mac.trial.job import default_job_name

    _check_mounts(spec)  # before the adapter's own checks: the most important reason to refuse comes first
    adapter = get_metaagent(spec.meta_agent, **spec.meta_agent_options)  # unknown names, bad options fail here
    updates: dict[str, Any] = {"meta_agent_options": adapter.options()}
    for key in ("data", "test_seed_file"):
        value = getattr(spec, key)
        updates[key] = str(Path(value).resolve()) if value else None
    updates["jobs_dir"] = str(Path(spec.jobs_dir or jobs_home()).resolve())
    spec = spec.model_copy(update=updates)
    if spec.job is None:
        spec = spec.model_copy(update={"job": default_job_name(f"{spec.domain}-{spec.meta_agent}{spec.suffix}")})
    check_spec(spec)
    return spec


def check_spec(spec: JobSpec) -> None:
    """Fail before any job folder exists: task model and key, prices, sandbox, auditor, data, mounts."""
    from mac.domains.base import get_domain
    from mac.sandbox.registry import check_backend

    check_task_model(spec.task_model_spec(), base_url_given=spec.base_url is not None)
    _check_costs(spec)
    check_backend(spec.sandbox, spec.sandbox_options, trial=True)
    _check_auditor(spec)
    plugin = get_domain(spec.domain)
    data = Path(spec.data) if spec.data else None
    for split in ("dev", "test"):
        plugin.load(split, data)
    _check_mounts(spec)


def _check_mounts(spec: JobSpec) -> None:
    """Folders mounted into the meta-agent's sandbox never overlap the job's data or jobs folder."""
    from mac.metaagents.command import check_mounts
    from mac.paths import jobs_home

    mounts = spec.meta_agent_options.get("mounts") or []
    if mounts:
        protected = [Path(spec.jobs_dir or jobs_home()), *([Path(spec.data)] if spec.data else [])]
        check_mounts(mounts, protected=protected)


def check_task_model(model: TaskModelSpec, *, base_url_given: bool) -> None:
    """A known backend, and no combination that could only fail later (the key itself is checked by preflight)."""
    from mac.gateway.backend import GATEWAYS

    GATEWAYS.get(model.backend)
    if model.simulated and base_url_given:
        raise ConfigError("--base-url is for --task-model openai:MODEL_NAME; the sim task model has no upstream")
    if model.backend == "openai" and not base_url_given and not os.environ.get(model.api_key_env):
        raise ConfigError(f"--task-model {model.backend}:{model.name} calls {model.base_url} and needs the key in "
                          f"${model.api_key_env}; set it, or pass --base-url URL for another OpenAI-compatible server")


def _check_costs(spec: JobSpec) -> None:
    capped = [name for name, cap in (("dev", spec.budget.dev_cost_usd), ("verify", spec.budget.verify_cost_usd))
              if cap is not None]
    if capped and spec.price_input_per_mtok == 0 and spec.price_output_per_mtok == 0:
        raise ConfigError(f"a {' and '.join(capped)} cost cap needs the task model's prices, else nothing is "
                          "metered: pass --price-input USD --price-output USD (per million tokens)")


def _check_auditor(spec: JobSpec) -> None:
    if spec.auditor_model:
        from mac.audit import AuditorConfig

        AuditorConfig.parse(spec.auditor_model, spec.auditor_base_url)  # a malformed name fails here
    elif spec.auditor_base_url:
        raise ConfigError("--auditor-base-url needs --auditor-model openai:MODEL_NAME")


def trial_configs(spec: JobSpec) -> list[TrialConfig]:
    """One TrialConfig per seed of a prepared spec (see `prepare_spec`)."""
    from mac.domains.base import get_domain
    from mac.trial.job import job_configs

    if spec.job is None:
        raise ConfigError("the job spec has no name: pass it through prepare_spec first")
    budget = spec.budget.build(get_domain(spec.domain).default_budget())
    return job_configs(job=spec.job, domain=spec.domain, meta_agent=spec.meta_agent, seeds=spec.seeds,
                       first_seed=spec.first_seed, task_model=spec.task_model_spec(), budget=budget,
                       meta_agent_options=spec.meta_agent_options, data=spec.data, sandbox=spec.sandbox,
                       suffix=spec.suffix, sandbox_options=dict(spec.sandbox_options),
                       test_seed_file=spec.test_seed_file, auditor=spec.auditor_model,
                       auditor_base_url=spec.auditor_base_url)
