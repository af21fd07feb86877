"""Every number in the config models is validated where it is declared (flags, job files and stored folders get
the same checks), and a refusal names the field and the value instead of showing pydantic's traceback."""

from __future__ import annotations

import json
import math

import pytest
from pydantic import ValidationError

from mac.config import MAX_SECONDS, Budget, Quota, SandboxLimits, TaskModelSpec, check_rate, check_seconds, validated
from mac.errors import ConfigError, StoreError
from mac.store import TrialConfig, TrialResult
from mac.trial.budgets import override_budget


@pytest.mark.parametrize("field", ["dev_time_sec", "eval_timeout_sec", "verify_timeout_sec"])
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 0, -5, MAX_SECONDS * 2, None])
def test_budget_times_must_be_finite_positive_and_bounded(field, value):
    with pytest.raises(ValidationError):
        Budget(**{field: value})
    budget = Budget()
    with pytest.raises(ValidationError):  # assignments are validated too: code cannot slip a bad value past
        setattr(budget, field, value)
    assert getattr(budget, field) == getattr(Budget(), field)


@pytest.mark.parametrize("model, values", [
    (Quota, {"requests": -1}), (Quota, {"output_tokens": 1.5}), (Quota, {"concurrent": 0}), (Quota, {"rpm": 0}),
    (Quota, {"cost_usd": math.inf}), (Quota, {"cost_usd": -0.01}), (Quota, {"input_tokens": 10**16}),
    (SandboxLimits, {"memory_mb": 0}), (SandboxLimits, {"pids": -3}), (SandboxLimits, {"cpus": math.nan}),
    (SandboxLimits, {"wall_sec": math.inf}), (SandboxLimits, {"nofile": 3}), (SandboxLimits, {"output_bytes": 0}),
    (TaskModelSpec, {"seed": -1}), (TaskModelSpec, {"price_input_per_mtok": math.nan}),
])
def test_counts_and_amounts_are_checked(model, values):
    with pytest.raises(ValidationError):
        model(**values)


def test_valid_values_still_pass():
    assert Quota(requests=0, output_tokens=10, concurrent=1, cost_usd=0.0).requests == 0  # 0 allows none
    assert SandboxLimits(wall_sec=1.5, memory_mb=192, cpus=0.5).cpus == 0.5
    assert Budget(dev_time_sec=MAX_SECONDS).dev_time_sec == MAX_SECONDS


def test_refusals_name_the_field_and_the_value():
    with pytest.raises(ConfigError) as failed:
        validated(Budget, {"dev_time_sec": math.inf, "dev_quota": {"requests": -2}}, what="job.toml [budget]")
    message = str(failed.value)
    assert message.startswith("job.toml [budget]: ")
    assert "dev_time_sec: input should be a finite number (got inf)" in message
    assert "dev_quota.requests: input should be greater than or equal to 0 (got -2)" in message
    assert "pydantic" not in message and "errors.pydantic.dev" not in message


@pytest.mark.parametrize("flag, value, hint", [
    ("dev_time", math.inf, "--dev-time inf: input should be a finite number"),
    ("dev_time", math.nan, "--dev-time must be a finite, positive number"),
    ("verify_timeout", 0, "--verify-timeout must be a finite, positive number"),
    ("dev_requests", -1, "--dev-requests must be a finite, positive number"),
])
def test_budget_flags_are_refused_by_name(flag, value, hint):
    with pytest.raises(ConfigError, match=hint.replace("(", r"\(")):
        override_budget(Budget(), **{flag: value})


def test_seconds_and_rate_flags():
    assert check_seconds(None, "--timeout") is None and check_seconds(30, "--timeout") == 30
    for bad in (math.inf, math.nan, 0, -1):
        with pytest.raises(ConfigError, match="--timeout must be a finite number of seconds"):
            check_seconds(bad, "--timeout")
    assert check_rate(0.0, "--r") == 0.0 and check_rate(1.0, "--r") == 1.0
    for bad in (math.nan, -0.1, 1.01):
        with pytest.raises(ConfigError, match="--r must be a number from 0 to 1"):
            check_rate(bad, "--r")


def test_stored_files_that_do_not_validate_are_store_errors(tmp_path):
    config = TrialConfig(job="j", trial="t", domain="arith", meta_agent="reference").model_dump(mode="json")
    config["budget"]["dev_time_sec"] = None  # what an older MAC wrote for --dev-time inf
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(StoreError) as failed:
        TrialConfig.load(path)
    assert str(path) in str(failed.value) and "budget.dev_time_sec" in str(failed.value)
    assert "infinite or NaN budget" in str(failed.value)
    assert isinstance(failed.value, ValueError)  # readers that skip bad files (ValueError) still do
    (tmp_path / "result.json").write_text("{broken")
    with pytest.raises(StoreError, match="result.json cannot be read"):
        TrialResult.load(tmp_path / "result.json")
    with pytest.raises(ValidationError):
        TrialConfig(job="j", trial="t", domain="arith", meta_agent="reference", max_upstream_error_rate=1.5)
