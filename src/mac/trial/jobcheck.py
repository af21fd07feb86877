"""Preparing a job spec to run: named, paths absolute, and checked against everything that could only fail later.

    spec = prepare_spec(load_job_spec(sources, flags))   # ConfigError naming the fix, before any job folder exists
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mac.config import TaskModelSpec
from mac.errors import ConfigError
from mac.trial.jobspec import JobSpec, default_job_name


def prepare_spec(spec: JobSpec) -> JobSpec:
    """The spec a job runs and stores: named, with absolute paths and the adapter's normalised options, and
    checked against everything that could only fail later (names, data, keys, options). Raises ConfigError."""
    from mac.metaagents import get_metaagent
    from mac.paths import jobs_home

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
    from mac.domains.testseed import seed_for
    from mac.sandbox.registry import check_backend

    check_task_model(spec.task_model_spec(), base_url_given=spec.base_url is not None)
    _check_costs(spec)
    check_backend(spec.sandbox, spec.sandbox_options, trial=True)
    _check_auditor(spec)
    plugin = get_domain(spec.domain)
    data = Path(spec.data) if spec.data else None
    plugin.load("dev", data)
    plugin.load("test", data, seed=seed_for(plugin, data, spec.test_seed_file))
    _check_mounts(spec)


def _check_mounts(spec: JobSpec) -> None:
    """Folders mounted into the meta-agent's sandbox never overlap the job's data or jobs folder, nor hold the
    secret test seed file (a sandbox that runs as the controller's own user, without root, could read it)."""
    from mac.metaagents.command import check_mounts
    from mac.paths import jobs_home

    mounts = spec.meta_agent_options.get("mounts") or []
    if mounts:
        protected = [Path(spec.jobs_dir or jobs_home()), *([Path(spec.data)] if spec.data else []),
                     *([Path(spec.test_seed_file)] if spec.test_seed_file else [])]
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
