"""`mini-swe-agent`: the open, LLM-driven meta-agent (PyPI `mini-swe-agent`, via litellm), any meta model.

    mac run --domain arith --meta-agent mini-swe-agent --meta-model openai:NAME --meta-base-url URL

Install: a venv with mini-swe-agent (pinned) under the tools prefix. Instruction: `-t` (the domain's instruction).
Non-interactive: `-y --exit-immediately` (yolo mode, no confirmation at the end), `agent.cost_limit=0` (no cost
stop), `agent.wall_time_limit_seconds` = the time to the deadline, and the sandbox kill at the deadline anyway.
Model: `openai:NAME` -> litellm `openai/NAME` (any OpenAI-compatible server with `--meta-base-url`), or any
litellm name (`anthropic/claude-...`). Key: MAC_META_API_KEY, else the provider's variable (OPENAI_API_KEY,
ANTHROPIC_API_KEY, GEMINI_API_KEY) of the controller; inside it is MAC_META_API_KEY only (OPENAI_API_KEY there
is the task-model gateway token). Trajectory: mini's own JSON (`-o`), saved after every step; tokens from each
response's usage, cost from litellm's price map when the model is priced (else none).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mac.metaagents.base import LOG_MOUNT, LaunchContext, register
from mac.metaagents.cliagent import CliAgent
from mac.metaagents.tools import pip_tool
from mac.metaagents.trajectory import MAX_NATIVE_BYTES, MetaUsage, Step, Tokens, ToolCall, cut, number

VERSION = "2.4.6"
PROVIDER_HOSTS = {"openai": "api.openai.com", "anthropic": "api.anthropic.com",
                  "gemini": "generativelanguage.googleapis.com", "openrouter": "openrouter.ai"}
PROVIDER_APIS = {"openai": ("openai", "https://api.openai.com/v1"), "anthropic": ("anthropic", "https://api.anthropic.com"),
                 "gemini": ("gemini", "https://generativelanguage.googleapis.com"),
                 "openrouter": ("openai", "https://openrouter.ai/api/v1")}
"""Wire format and endpoint of each provider, for the preflight of the meta model."""
PROVIDER_KEYS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY",
                 "openrouter": "OPENROUTER_API_KEY"}


@register
class MiniSweAgent(CliAgent):
    name = "mini-swe-agent"
    description = "mini-swe-agent (PyPI, litellm): any OpenAI-compatible meta model (--meta-model, --meta-base-url)"
    tool, version = "mini-swe-agent", VERSION
    key_env = "MAC_META_API_KEY"
    native_log = "mini.traj.json"
    model_required = True

    def __init__(self, model: str | None = None, **options: Any):
        litellm_name = (model or "").replace(":", "/", 1) if model and "/" not in model else model
        self.provider = (litellm_name or "openai/").split("/", 1)[0]
        self.key_vars = ("MAC_META_API_KEY", PROVIDER_KEYS.get(self.provider, "OPENAI_API_KEY"))
        self.default_hosts = (PROVIDER_HOSTS.get(self.provider, "api.openai.com"),)
        self.api, self.api_url = PROVIDER_APIS.get(self.provider, (None, ""))  # litellm's other providers: unchecked
        super().__init__(model=litellm_name, **options)

    def install(self) -> None:
        pip_tool(self.tool, self.version, [f"mini-swe-agent=={self.version}"])

    def env(self, ctx: LaunchContext) -> dict[str, str]:
        return {"MSWEA_CONFIGURED": "true", "MSWEA_SILENT_STARTUP": "1", "MSWEA_GLOBAL_CONFIG_DIR": "/tmp/mini-swe-agent",
                "MSWEA_COST_TRACKING": "ignore_errors", "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PAGER": "cat"}

    def argv(self, ctx: LaunchContext) -> list[str]:
        config = ["mini.yaml", "agent.cost_limit=0", f"agent.wall_time_limit_seconds={self.seconds_left(ctx)}",
                  "environment.timeout=3600", "model.cost_tracking=ignore_errors"]
        if self.sandbox_base_url():
            config.append(f"model.model_kwargs.api_base={self.sandbox_base_url()}")
        mini = [str(self.prefix() / "venv" / "bin" / "mini"), "-y", "--exit-immediately", "-m", self.model,
                "-o", f"{LOG_MOUNT}/{self.native_log}"]
        for spec in config:
            mini += ["-c", spec]
        # the key stays an environment reference here (command.txt is a trajectory file)
        script = " ".join(_quote(a) for a in mini) + ' -c "model.model_kwargs.api_key=$MAC_META_API_KEY" -t "$1"'
        return ["sh", "-c", "exec " + script, "mini", ctx.instruction]

    def convert(self, native: Path) -> tuple[list[Step], MetaUsage | None]:
        try:
            data = json.loads(native.read_bytes()[:MAX_NATIVE_BYTES])
        except ValueError:
            return [], None
        messages = data.get("messages") if isinstance(data, dict) else None
        steps = [_step(m) for m in messages or [] if isinstance(m, dict)]
        return steps, None


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def _step(message: dict[str, Any]) -> Step:
    extra = message.get("extra") if isinstance(message.get("extra"), dict) else {}
    response = extra.get("response") if isinstance(extra.get("response"), dict) else {}
    usage = response.get("usage") if isinstance(response.get("usage"), dict) else {}
    details = usage.get("prompt_tokens_details") if isinstance(usage.get("prompt_tokens_details"), dict) else {}
    calls = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) and isinstance(call.get("function"), dict) else {}
        arguments = function.get("arguments")
        try:
            arguments = json.loads(arguments) if isinstance(arguments, str) else arguments
        except ValueError:
            pass
        calls.append(ToolCall(id=str(call.get("id", "")), name=str(function.get("name", "")), arguments=arguments))
    role = str(message.get("role", ""))
    cost = extra.get("cost") if role == "assistant" and isinstance(extra.get("cost"), (int, float)) else None
    content = message.get("content") or ""
    if role == "exit":
        content = f"exit: {extra.get('exit_status', '')} {content}".strip()
    return Step(role=role if role in ("system", "user", "assistant", "tool") else "event",
                content=cut(content), tool_calls=calls,
                tool_call_id=message.get("tool_call_id") if isinstance(message.get("tool_call_id"), str) else None,
                tokens=Tokens(input=number(usage.get("prompt_tokens")), output=number(usage.get("completion_tokens")),
                              cached=number(details.get("cached_tokens"))),
                cost_usd=float(cost) if cost else None,
                time=extra.get("timestamp") if isinstance(extra.get("timestamp"), (int, float)) else None,
                source="mini-swe-agent")
