"""The job spec: everything `mac run` takes, as one validated model. `jobs/<job>/job.json` keeps it.

    spec = load_job_spec(["job.toml", "seeds=5"], {"budget.preset": "demo"})   # mac.trial.jobfile
    spec = prepare_spec(spec)          # mac.trial.jobcheck: named, paths absolute, checked; ConfigError if not
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

import re
import time
from typing import Annotated, Any, Final, Literal
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mac.config import Budget, TaskModelSpec
from mac.errors import ConfigError
from mac.store.models import DEFAULT_MAX_UPSTREAM_ERROR_RATE, TrialConfig
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
    max_output_tokens: int = Field(TaskModelSpec.model_fields["max_output_tokens"].default, ge=1)
    """The task model's output limit per reply: what the gateway reserves for a request naming no max_tokens."""
    budget: BudgetSpec = Field(default_factory=BudgetSpec)
    sandbox: str = "bwrap"
    sandbox_options: dict[str, Any] = Field(default_factory=dict)
    """The backend's options (its typed `Options` model)."""
    auditor_model: str | None = None
    """LLM auditor, `openai:MODEL_NAME` (None: the deterministic rules alone)."""
    auditor_base_url: str | None = None
    test_seed_file: str | None = None
    """Pins a generated domain's secret test seed (arith) for reproducible published numbers."""
    max_upstream_error_rate: float = Field(DEFAULT_MAX_UPSTREAM_ERROR_RATE, ge=0.0, le=1.0, allow_inf_nan=False)
    """Above this share of task-model calls failing upstream in a phase, a trial is an `infrastructure_error`."""
    concurrency: int = Field(2, ge=1, le=CONCURRENCY_MAX)
    """Trials at once."""
    jobs_dir: str | None = None
    """Where job folders go (default ./jobs, or $MAC_JOBS)."""
    executor: Literal["local", "ray"] = "local"
    """Where trials run: `local` (this process) or `ray` (a Ray cluster; `pip install 'mac-bench[ray]'`)."""
    ray_address: str | None = None
    """With `executor = "ray"`: `auto` (the cluster this node belongs to), `ray://HOST:PORT` (Ray Client),
    `HOST:PORT` (the head's GCS), or None: start a Ray on this machine for the job (loopback only)."""
    ray_shared_fs: bool = False
    """With `executor = "ray"`: the jobs folder is the same path on every node (NFS, ...): workers write trial
    folders in place instead of streaming them back."""

    @field_validator("ray_address")
    @classmethod
    def _ray_address(cls, v: str | None) -> str | None:
        if v is not None and v != "auto" and not re.fullmatch(r"(ray://)?[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}", v):
            raise ValueError("use auto, ray://HOST:PORT or HOST:PORT")
        return v

    @model_validator(mode="after")
    def _ray_options(self) -> JobSpec:
        if self.executor != "ray" and (self.ray_address is not None or self.ray_shared_fs):
            raise ValueError("ray_address and ray_shared_fs (--ray-address, --ray-shared-fs) go with executor = "
                             "\"ray\" (--executor ray)")
        return self

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
                                       "price_output_per_mtok": self.price_output_per_mtok,
                                       "max_output_tokens": self.max_output_tokens})

    @property
    def suffix(self) -> str:
        """What trial names add for a variant of the meta-agent (the baseline's kind)."""
        variant = self.meta_agent_options.get("baseline") if self.meta_agent == "baseline" else None
        return f"-{variant}" if variant else ""


def trial_configs(spec: JobSpec) -> list[TrialConfig]:
    """One TrialConfig per seed of a prepared spec (see mac.trial.jobcheck.prepare_spec)."""
    from mac.domains.base import get_domain

    if spec.job is None:
        raise ConfigError("the job spec has no name: pass it through prepare_spec first")
    budget = spec.budget.build(get_domain(spec.domain).default_budget())
    return job_configs(job=spec.job, domain=spec.domain, meta_agent=spec.meta_agent, seeds=spec.seeds,
                       first_seed=spec.first_seed, task_model=spec.task_model_spec(), budget=budget,
                       meta_agent_options=spec.meta_agent_options, data=spec.data, sandbox=spec.sandbox,
                       suffix=spec.suffix, sandbox_options=dict(spec.sandbox_options),
                       test_seed_file=spec.test_seed_file, auditor=spec.auditor_model,
                       auditor_base_url=spec.auditor_base_url, max_upstream_error_rate=spec.max_upstream_error_rate)


def default_job_name(label: str) -> str:
    return check_name(f"{time.strftime('%Y%m%d-%H%M%S')}-{label}"[:120], "job")


def trial_name(domain: str, meta_agent: str, seed: int, suffix: str = "") -> str:
    return check_name(f"{domain}-{meta_agent}{suffix}-s{seed}", "trial")


def job_configs(*, job: str, domain: str, meta_agent: str, seeds: int, task_model: TaskModelSpec, budget: Budget,
                meta_agent_options: dict[str, Any] | None = None, data: str | None = None, sandbox: str = "bwrap",
                first_seed: int = 0, suffix: str = "", **fields: Any) -> list[TrialConfig]:
    """One TrialConfig per seed; the sim's seed follows the trial's seed so seeds give independent samples.
    `fields`: other TrialConfig fields (auditor, sandbox_options, test_seed_file, ...). Refuses a backend that
    isolates nothing. A generated test split's seed (arith) is recorded: its file and fingerprint."""
    from mac.sandbox.registry import check_backend
    from mac.trial.setup import with_test_seed

    check_backend(sandbox, fields.get("sandbox_options") or {}, trial=True)
    template = TrialConfig(job=check_name(job, "job"), trial=trial_name(domain, meta_agent, first_seed, suffix),
                           domain=domain, data=data, meta_agent=meta_agent,
                           meta_agent_options=dict(meta_agent_options or {}), seed=first_seed,
                           task_model=task_model, budget=budget, sandbox=sandbox, **fields)
    template = with_test_seed(template)
    return [config_for_seed(template, seed, suffix) for seed in range(first_seed, first_seed + seeds)]


def config_for_seed(template: TrialConfig, seed: int, suffix: str = "") -> TrialConfig:
    """`template` for another seed: its own trial name, sim seed and creation time, everything else the same."""
    return template.model_copy(deep=True, update={
        "trial": trial_name(template.domain, template.meta_agent, seed, suffix), "seed": seed,
        "task_model": template.task_model.model_copy(update={"seed": seed}), "created_at": time.time()})


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`: tables merge recursively, anything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def validation_message(exc: ValueError, flags: Mapping[str, str] | None = None) -> str:
    """A pydantic error as `key: problem (got value)` items (`key (--flag)` where `flags` names the key's
    command-line flag); other ValueErrors as they are."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    items = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "settings"
        if flags and where in flags:
            where = f"{where} ({flags[where]})"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key (misspelt?); known: {', '.join(_known_keys(error['loc'][:-1]))}"
        shown = error.get("input")
        got = f" (got {shown!r})" if error["type"] != "missing" and not isinstance(shown, dict) else ""
        items.append(f"{where}: {message}{got}")
    return "; ".join(items)


def _known_keys(parent: tuple[Any, ...]) -> list[str]:
    tables: dict[tuple[Any, ...], type[BaseModel]] = {(): JobSpec, ("budget",): BudgetSpec}
    model = tables.get(tuple(parent))
    return sorted(model.model_fields) if model is not None else ["see the docs of this table"]
