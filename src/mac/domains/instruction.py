"""Render the instruction for meta-agents from the markdown templates in `templates/`.

`common.md` holds what every domain shares (artifact contract, environment, evaluation API, budget, rules);
`<domain>.md` holds the domain's "## Your task" section, then its "## Answer format" section.
Placeholders are `{{name}}`; a missing value is a bug, so it raises.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from mac.config import Budget, Quota
from mac.domains.base import InstructionContext

_FOLDER = Path(__file__).parent / "templates"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_FORMAT_HEADING = "## Answer format"

SIMULATED_NOTE = (
    "\n> **Simulated task model.** This trial runs on `sim`, a simulated task model for offline runs: a noisy "
    "oracle whose chance of a correct reply depends on the problem's difficulty, the sampling temperature and "
    "how the prompt asks for reasoning and for the answer format. Every result of this trial is labelled "
    "simulated; it measures agent design, not a real model.\n"
)


@cache
def template(name: str) -> str:
    return (_FOLDER / f"{name}.md").read_text(encoding="utf-8")


def render(text: str, values: dict[str, str]) -> str:
    def fill(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            raise KeyError(f"instruction template needs {{{{{m.group(1)}}}}}")
        return values[m.group(1)]

    return _PLACEHOLDER.sub(fill, text)


def build_instruction(domain: str, title: str, ctx: InstructionContext, *, mac_base: str, problem_fields: str,
                      example_prompt: str, example_extract: str) -> str:
    """The whole instruction for `domain` in this trial's context."""
    task, sep, answer_format = template(domain).partition(_FORMAT_HEADING)
    if not sep:
        raise ValueError(f"templates/{domain}.md lacks a {_FORMAT_HEADING!r} section")
    values = {
        "title": title,
        "badge": " (simulated task model)" if ctx.simulated else "",
        "simulated_note": SIMULATED_NOTE if ctx.simulated else "",
        "task": task.strip(),
        "answer_format": (sep + answer_format).strip(),
        "mac_base": mac_base,
        "problem_fields": problem_fields,
        "example_prompt": example_prompt,
        "example_extract": example_extract,
        "task_model": ctx.task_model,
        "evaluation_api_url": ctx.evaluation_api_url,
        "eval_timeout": f"{ctx.budget.eval_timeout_sec:g}",
        "n_dev_clause": f" ({ctx.n_dev} problems)" if ctx.n_dev else "",
        "budget": budget_markdown(ctx.budget, ctx.n_dev),
    }
    return render(template("common"), values).strip() + "\n"


def budget_markdown(budget: Budget, n_dev: int = 0) -> str:
    """The trial's budgets as a short markdown list."""
    lines = [
        f"- Development time: **{duration(budget.dev_time_sec)}** of wall clock for everything you do; then the "
        "workspace is frozen.",
        f"- Each dev evaluation: at most {duration(budget.eval_timeout_sec)}"
        + (f" for the {n_dev} dev problems." if n_dev else "."),
        f"- Task-model quota for the whole development phase (all your calls and all dev evaluations): "
        f"{quota_text(budget.dev_quota)}.",
        f"- Verification on the test split: the artifact gets {duration(budget.verify_timeout_sec)} and "
        f"{quota_text(budget.verify_quota)} of task model.",
        f"- Artifact sandbox: {budget.eval_limits.memory_mb} MB memory, {budget.eval_limits.pids} processes, "
        f"{budget.eval_limits.cpus:g} CPU.",
    ]
    return "\n".join(lines)


def quota_text(quota: Quota) -> str:
    names = {"requests": "requests", "input_tokens": "input tokens", "output_tokens": "output tokens",
             "concurrent": "concurrent requests", "rpm": "requests per minute", "tpm": "tokens per minute"}
    parts = [f"{getattr(quota, key):,} {label}" for key, label in names.items() if getattr(quota, key) is not None]
    if quota.cost_usd is not None:
        parts.append(f"${quota.cost_usd:,.2f}")
    return ", ".join(parts) if parts else "unlimited"


def duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
