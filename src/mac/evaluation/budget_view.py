"""The JSON bodies of `GET /budget` and `GET /info` of the evaluation service."""

from __future__ import annotations

import time
from typing import Any

from mac.config import Quota
from mac.records import Usage

_QUOTA_FIELDS = {"requests": "requests", "input_tokens": "input_tokens", "output_tokens": "output_tokens",
                 "cost_usd": "cost_usd"}


def quota_left(quota: Quota, usage: Usage) -> dict[str, float | None]:
    """What is left of each capped quota field (None: unlimited)."""
    left: dict[str, float | None] = {}
    for field, used_field in _QUOTA_FIELDS.items():
        limit = getattr(quota, field)
        left[field] = None if limit is None else max(0, limit - getattr(usage, used_field))
    return left


def budget_view(service: Any) -> dict[str, Any]:
    now = time.time()
    usage = service.gateway.usage(service.token)
    quota = service.budget.dev_quota
    return {
        "time_left_sec": round(max(0.0, service.deadline - now), 3),
        "time_used_sec": round(now - service.started_at, 3),
        "dev_time_sec": service.budget.dev_time_sec,
        "deadline": service.deadline,
        "quota": quota.model_dump(),
        "usage": usage.model_dump(),
        "quota_left": quota_left(quota, usage),
        "evaluations": len(service.history),
        "running": service._running[1] if service._running else None,
        "eval_timeout_sec": service.budget.eval_timeout_sec,
    }


def info_view(service: Any) -> dict[str, Any]:
    grading = service.domain.grading.describe()
    request = {
        "agent_file": "path relative to the workspace (or under /workspace/), default 'agent.py'",
        "split": "'eval' or 'dev' (the dev split); 'test' is refused with 403",
        "timeout": f"seconds, at most {service.budget.eval_timeout_sec:g} (default)",
        "first_k": "evaluate only the first k dev problems (null: all)",
        "kill_running": "stop a running evaluation and start this one (otherwise 409)",
    }
    response = ["success", "accuracy", "correct", "total", "covered", "coverage", "scores", "missing_predictions",
                "detailed_results", "predictions_content", "partial", "timed_out", "run_id", "usage", "error",
                "artifact_stderr", "wall_sec"]
    if "case_timeout" in grading:
        request["case_timeout"] = f"seconds per test, fixed at {grading['case_timeout']:g} (optional)"
        response.append("case_timeout")
    return {
        "service": "mac evaluation service",
        "domain": service.domain.name,
        "answer_format": getattr(service.domain, "answer_format", "integer"),
        **grading,
        "dev_problems": len(service.records),
        "task_model": service.model_name,
        "simulated": service.simulated,
        "endpoints": {
            "POST /evaluate/agent": {
                "request": request,
                "response": response,
                "notes": "one evaluation at a time; each runs a fresh snapshot of the workspace in a sandbox "
                         "and spends the dev model quota",
            },
            "GET /health": "liveness",
            "GET /info": "this document",
            "GET /budget": "development time left and the dev model quota left",
        },
    }
