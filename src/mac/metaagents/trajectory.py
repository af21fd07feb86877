"""One trajectory format for every meta-agent: `trajectory/trajectory.jsonl`, one step per line, plus `usage.json`.

    {"version": "mac-trajectory-1", "step": 3, "role": "assistant", "content": "I will write agent.py",
     "tool_calls": [{"id": "call_1", "name": "bash", "arguments": {"command": "cat > agent.py ..."}}],
     "tool_call_id": null, "tokens": {"input": 812, "output": 64, "cached": 0}, "cost_usd": null,
     "time": 1764300000.0, "source": "mini-swe-agent"}

Roles: "system", "user" (the instruction, or a harness message), "assistant" (model output, with its tool
calls), "tool" (a tool's result; `tool_call_id` says which call), "event" (anything else the tool reported,
e.g. its final result line). Each adapter converts its tool's native log (mini-swe-agent's trajectory JSON,
Claude Code's stream-json, Codex's `exec --json` events, Gemini CLI's stream-json) into these steps; the native
file is kept next to it. Native logs were written inside the sandbox, so converters treat them as untrusted:
bad lines are skipped and long content is cut (the cut is marked).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from collections.abc import Iterator

from pydantic import BaseModel, Field

from mac.store.atomic import write_json_atomic, write_text_atomic
from mac.store.models import MetaAgentUsage

TRAJECTORY_VERSION = "mac-trajectory-1"
MAX_CONTENT_CHARS = 20_000
MAX_NATIVE_BYTES = 64 << 20


class Tokens(BaseModel):
    input: int = 0
    output: int = 0
    cached: int = 0
    """Input tokens served from the provider's prompt cache (counted in `input` too)."""


class ToolCall(BaseModel):
    id: str = ""
    name: str = ""
    arguments: Any = None


class Step(BaseModel):
    version: str = TRAJECTORY_VERSION
    step: int = 0
    role: str
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None
    tokens: Tokens = Field(default_factory=Tokens)
    cost_usd: float | None = None
    time: float | None = None
    source: str = ""


class MetaUsage(MetaAgentUsage):
    """usage.json: totals of a meta-agent's own model use (not the task model's: that is the gateway's accounting).
    result.json keeps the MetaAgentUsage part of it."""

    version: str = TRAJECTORY_VERSION
    source: str = ""
    steps: int = 0
    reported_by: str = "steps"
    """"steps" (summed over steps) or "tool" (the tool's own final totals)."""


def cut(text: Any, limit: int = MAX_CONTENT_CHARS) -> str:
    text = text if isinstance(text, str) else json.dumps(text, default=str)
    return text if len(text) <= limit else text[:limit] + f"\n[... {len(text) - limit} characters cut by MAC]"


def number(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else 0


def iter_json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Objects of a JSONL file written by untrusted code: size-capped, bad lines skipped, symlinks refused."""
    if not path.is_file() or path.is_symlink():
        return
    with path.open("rb") as fh:
        data = fh.read(MAX_NATIVE_BYTES)
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            yield value


def summarize(steps: list[Step], *, source: str, model: str = "") -> MetaUsage:
    usage = MetaUsage(source=source, model=model, steps=len(steps))
    costs = [s.cost_usd for s in steps if s.cost_usd is not None]
    for s in steps:
        if s.role == "assistant":
            usage.model_calls += 1
        usage.input_tokens += s.tokens.input
        usage.output_tokens += s.tokens.output
        usage.cached_tokens += s.tokens.cached
    usage.cost_usd = round(sum(costs), 6) if costs else None
    return usage


def write_trajectory(folder: Path, steps: list[Step], usage: MetaUsage) -> None:
    """trajectory.jsonl (steps renumbered in order) and usage.json, written atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, step in enumerate(steps):
        step.step = i
    write_text_atomic(folder / "trajectory.jsonl", "".join(s.model_dump_json() + "\n" for s in steps))
    write_json_atomic(folder / "usage.json", usage)


def read_trajectory(folder: Path) -> list[Step]:
    return [Step.model_validate(line) for line in iter_json_lines(folder / "trajectory.jsonl")]


def total_usage(trajectory: Path) -> MetaAgentUsage | None:
    """The meta-agent's own model use over its sessions: usage.json plus any interrupted-N/usage.json a resume
    kept (None when no session reported any)."""
    return MetaAgentUsage.total([_read_usage(path) for path in
                                 [trajectory / "usage.json", *sorted(trajectory.glob("interrupted-*/usage.json"))]])


def _read_usage(path: Path) -> MetaAgentUsage | None:
    if not path.is_file() or path.is_symlink():
        return None
    try:
        return MetaAgentUsage.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
