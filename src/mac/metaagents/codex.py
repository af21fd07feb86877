"""`codex`: OpenAI's Codex CLI as the meta-agent.

    OPENAI_API_KEY=... mac run --domain aime --meta-agent codex [--meta-model gpt-5-codex]

Install: npm `@openai/codex` (pinned) into the tools prefix; its optional platform package carries the native
(musl, static) binary, run directly (no Node needed). Instruction: the prompt of `codex exec`. Non-interactive:
`exec --dangerously-bypass-approvals-and-sandbox --skip-git-repo-check` (the bwrap sandbox is the boundary; Codex's
own sandbox would need user namespaces, which ours forbids), until it stops or the deadline kills it.
Credentials: CODEX_API_KEY or OPENAI_API_KEY of the controller, passed in as MAC_META_API_KEY and named by a
model provider of our own (`-c model_providers.mac={..., env_key="MAC_META_API_KEY"}`), because OPENAI_API_KEY in
the sandbox is the task-model gateway token. `--meta-base-url` is that provider's base URL (Responses API).
Egress: api.openai.com. Trajectory: `exec --json` events (JSONL); tokens per turn from `turn.completed`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mac.errors import ConfigError
from mac.metaagents.base import LaunchContext, register
from mac.metaagents.cliagent import CliAgent
from mac.metaagents.tools import npm_tool
from mac.metaagents.trajectory import MetaUsage, Step, Tokens, ToolCall, cut, iter_json_lines, number, summarize

VERSION = "0.171.0"
QUIET = ["-c", "check_for_update_on_startup=false", "-c", "analytics.enabled=false", "-c", "feedback.enabled=false"]
"""Fewer calls home (each is denied and logged by the egress proxy anyway)."""


@register
class Codex(CliAgent):
    name = "codex"
    description = "Codex CLI (npm @openai/codex), CODEX_API_KEY or OPENAI_API_KEY"
    tool, version = "codex", VERSION
    default_hosts = ("api.openai.com",)
    key_vars, key_env = ("CODEX_API_KEY", "OPENAI_API_KEY"), "MAC_META_API_KEY"

    def install(self) -> None:
        npm_tool(self.tool, self.version, [f"@openai/codex@{self.version}"])

    def binary(self) -> Path:
        found = sorted(self.prefix().glob("node_modules/@openai/codex-linux-*/vendor/*/bin/codex"))
        if not found:
            raise ConfigError(f"no codex binary for this platform under {self.prefix()}: remove that folder and "
                              "run again (npm must install the optional platform package)")
        return found[0]

    def env(self, ctx: LaunchContext) -> dict[str, str]:
        return {"CODEX_HOME": "/tmp/codex", "RUST_LOG": "error"}

    def argv(self, ctx: LaunchContext) -> list[str]:
        base_url = self.sandbox_base_url() or "https://api.openai.com/v1"
        provider = (f'model_providers.mac={{name="mac", base_url={json.dumps(base_url)}, '
                    f'env_key="{self.key_env}", wire_api="responses"}}')
        model = ["-m", self.model] if self.model else []
        return self.shell(ctx, [str(self.binary()), "exec", "--json", "--skip-git-repo-check",
                                "--dangerously-bypass-approvals-and-sandbox", "-c", 'model_provider="mac"',
                                "-c", provider, *QUIET, *model, '"$1"'], setup="mkdir -p \"$CODEX_HOME\" && ")

    def convert(self, native: Path) -> tuple[list[Step], MetaUsage | None]:
        steps: list[Step] = []
        totals = Tokens()
        for event in iter_json_lines(native):
            kind, item = event.get("type"), event.get("item")
            if kind == "item.completed" and isinstance(item, dict):
                steps += _item(item)
            elif kind == "turn.completed" and isinstance(event.get("usage"), dict):
                usage = event["usage"]
                turn = Tokens(input=number(usage.get("input_tokens")), output=number(usage.get("output_tokens")),
                              cached=number(usage.get("cached_input_tokens")))
                totals = Tokens(input=totals.input + turn.input, output=totals.output + turn.output,
                                cached=totals.cached + turn.cached)
                steps.append(Step(role="event", content="turn completed", tokens=turn, source=self.name))
            elif kind in ("turn.failed", "error"):
                steps.append(Step(role="event", content=cut(json.dumps(event)), source=self.name))
        usage = summarize(steps, source=self.name, model=self.model)
        usage.reported_by = "tool"
        return steps, usage


def _item(item: dict[str, Any]) -> list[Step]:
    kind, item_id = item.get("type"), str(item.get("id", ""))
    if kind == "agent_message":
        return [Step(role="assistant", content=cut(item.get("text", "")), source="codex")]
    if kind == "reasoning":
        return [Step(role="event", content=cut(f"reasoning: {item.get('text', '')}"), source="codex")]
    if kind == "command_execution":
        call = ToolCall(id=item_id, name="shell", arguments={"command": item.get("command")})
        return [Step(role="assistant", tool_calls=[call], source="codex"),
                Step(role="tool", tool_call_id=item_id, source="codex",
                     content=cut(f"exit {item.get('exit_code')}\n{item.get('aggregated_output', '')}"))]
    if kind in ("file_change", "mcp_tool_call", "web_search"):
        arguments = {k: v for k, v in item.items() if k not in ("id", "type")}
        return [Step(role="assistant", tool_calls=[ToolCall(id=item_id, name=kind, arguments=arguments)],
                     source="codex")]
    return [Step(role="event", content=cut(json.dumps(item)), source="codex")]
