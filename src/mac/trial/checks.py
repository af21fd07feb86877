"""Checks a job passes before it spends anything: every model endpoint its trials will call answers, knows the
model and accepts the key (mac.preflight). `mac run` (new or resumed) calls `preflight_trials` before any
trial starts; a PreflightError (exit code 2) leaves no job folder behind."""

from __future__ import annotations

from mac.preflight import Endpoint, check_endpoints, task_model_endpoint
from mac.store.models import TrialConfig


def trial_endpoints(configs: list[TrialConfig]) -> list[Endpoint]:
    """The distinct endpoints of `configs`: each task model's upstream and each meta-agent's own model."""
    from mac.metaagents import get_metaagent

    found: dict[Endpoint, None] = {}
    for config in configs:
        for endpoint in (task_model_endpoint(config.task_model),
                         get_metaagent(config.meta_agent, **config.meta_agent_options).model_endpoint()):
            if endpoint is not None:
                found.setdefault(endpoint)
    return list(found)


def preflight_trials(configs: list[TrialConfig]) -> list[str]:
    """Check the endpoints of `configs` (PreflightError naming each failure); one line per endpoint checked."""
    return check_endpoints(list(trial_endpoints(configs)))
