"""The closed vocabularies of MAC as types: trial statuses, verdicts, sandbox roles, resume policies.

Fields that hold one of these are typed with them (pydantic refuses anything else on load), so a misspelt
status is an error where it is written, not a silent new category in a report.
"""

from __future__ import annotations

from typing import Literal, get_args

TrialStatus = Literal["running", "completed", "failed", "interrupted", "infrastructure_error"]
""""running" (or its controller died), "completed" (a test score exists, possibly 0), "failed" (the harness could
not finish), "interrupted" (stopped: `mac run --resume` continues it), "infrastructure_error" (the task-model
upstream failed too often for the score to mean anything; kept for inspection, left out of means)."""
TRIAL_STATUSES: tuple[str, ...] = get_args(TrialStatus)
FINISHED_STATUSES: tuple[str, ...] = ("completed", "failed", "infrastructure_error")
"""Statuses a resume keeps as they are."""

Verdict = Literal["CLEAN", "SUSPICIOUS", "CHEATING"]
"""The integrity verdict of an audited trial."""

Split = Literal["dev", "test"]
"""A domain's development split (dev evaluations) or its held-out test split (verification only)."""

SandboxRole = Literal["artifact", "dev", "exec", "install", "environment"]
""""artifact" (dev eval / verify), "dev" (meta-agent), "exec" (candidate code), "install" (dependency layer),
"environment" (a task environment, mac.environments)."""

ResumePolicy = Literal["keep", "start-over", "continue-development", "freeze-workspace", "verify-artifact",
                       "audit-only", "retry"]
"""What a resume does with one trial (mac.trial.resume)."""
