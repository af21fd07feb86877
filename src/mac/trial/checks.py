"""Checks a job passes before it spends anything: every model endpoint its trials will call answers, knows the
model and accepts the key (mac.preflight). `mac run` (new or resumed) and `mac verify` call these before any
trial starts; a PreflightError (exit code 2) leaves no job folder behind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mac.preflight import Endpoint, check_endpoints, task_model_endpoint
from mac.store.models import TrialConfig

if TYPE_CHECKING:
    from mac.trial.resume import ResumePlan


def trial_endpoints(configs: list[TrialConfig], *, meta_agents: bool = True) -> list[Endpoint]:
    """The distinct endpoints of `configs`: each task model's upstream and (with `meta_agents`, for trials that
    will develop) each meta-agent's own model."""
    from mac.metaagents import get_metaagent

    found: dict[Endpoint, None] = {}
    for config in configs:
        endpoints = [task_model_endpoint(config.task_model)]
        if meta_agents:
            endpoints.append(get_metaagent(config.meta_agent, **config.meta_agent_options).model_endpoint())
        for endpoint in endpoints:
            if endpoint is not None:
                found.setdefault(endpoint)
    return list(found)


def preflight_trials(configs: list[TrialConfig], *, meta_agents: bool = True) -> list[str]:
    """Check the endpoints of `configs` (PreflightError naming each failure); one line per endpoint checked."""
    return check_endpoints(list(trial_endpoints(configs, meta_agents=meta_agents)))


def preflight_resume(configs: list[TrialConfig], plans: list[ResumePlan]) -> list[str]:
    """The endpoints a resume will call: the task model of every trial that runs again, and the meta-agent's
    own model of those that develop again (a trial only verified again needs no meta-agent, an audit none)."""
    develop = [c for c, p in zip(configs, plans) if "develop" in p.phases]
    rest = [c for c, p in zip(configs, plans) if "verify" in p.phases and "develop" not in p.phases]
    endpoints = trial_endpoints(develop) + trial_endpoints(rest, meta_agents=False)
    return check_endpoints(list(dict.fromkeys(endpoints)))
