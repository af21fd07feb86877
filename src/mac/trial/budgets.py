"""Budget presets for short runs, and per-field overrides (`mac run --budget demo --dev-time 30`)."""

from __future__ import annotations

from pydantic import ValidationError

from mac.config import Budget, describe_validation
from mac.errors import ConfigError

PRESETS = ("full", "demo", "smoke")


def _short(default: Budget, dev_time_sec: float, eval_timeout_sec: float, verify_timeout_sec: float,
           dev_requests: int, verify_requests: int) -> Budget:
    """The domain's budget with short times and request quotas (token quotas and sandbox limits kept)."""
    budget = default.model_copy(deep=True)
    budget.dev_time_sec, budget.eval_timeout_sec, budget.verify_timeout_sec = (
        dev_time_sec, eval_timeout_sec, verify_timeout_sec)
    budget.dev_quota.requests = dev_requests
    budget.verify_quota.requests = verify_requests
    return budget


def budget_preset(name: str, default: Budget) -> Budget:
    """`full`: the domain's own budget (MAC: 12 h development for aime and science); `demo`: seconds-scale
    budgets for a first look (30 s of development); `smoke`: the smallest budget that still runs every
    phase (tests)."""
    if name == "full":
        return default.model_copy(deep=True)
    if name == "demo":
        return _short(default, dev_time_sec=30, eval_timeout_sec=30, verify_timeout_sec=60, dev_requests=10_000,
                      verify_requests=5_000)
    if name == "smoke":
        return _short(default, dev_time_sec=10, eval_timeout_sec=15, verify_timeout_sec=30, dev_requests=5_000,
                      verify_requests=5_000)
    raise ConfigError(f"unknown budget preset {name!r}; known: {', '.join(PRESETS)}")


def override_budget(budget: Budget, *, dev_time: float | None = None, eval_timeout: float | None = None,
                    verify_timeout: float | None = None, dev_requests: int | None = None,
                    dev_output_tokens: int | None = None, verify_requests: int | None = None) -> Budget:
    """A copy of `budget` with the given fields replaced (None keeps a field). A value the budget refuses (not
    finite, not positive, too large) is a ConfigError naming its flag."""
    budget = budget.model_copy(deep=True)
    changes = (("--dev-time", budget, "dev_time_sec", dev_time),
               ("--eval-timeout", budget, "eval_timeout_sec", eval_timeout),
               ("--verify-timeout", budget, "verify_timeout_sec", verify_timeout),
               ("--dev-requests", budget.dev_quota, "requests", dev_requests),
               ("--dev-output-tokens", budget.dev_quota, "output_tokens", dev_output_tokens),
               ("--verify-requests", budget.verify_quota, "requests", verify_requests))
    for flag, model, name, value in changes:
        if value is None:
            continue
        if value <= 0 or value != value:  # quotas may be 0 in a job file; a flag asks for some budget
            raise ConfigError(f"{flag} must be a finite, positive number (got {value})")
        try:
            setattr(model, name, value)  # validated by the model: finite, in range, integer where it counts
        except ValidationError as exc:
            raise ConfigError(f"{flag} {value}: {describe_validation(exc).split(': ', 1)[-1]}") from None
    return budget
