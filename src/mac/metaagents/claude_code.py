"""`claude-code`: Anthropic's Claude Code CLI as the meta-agent.

    ANTHROPIC_API_KEY=... mac run --domain aime --meta-agent claude-code [--meta-model sonnet]

Install: npm `@anthropic-ai/claude-code` (pinned) into the tools prefix; its optional platform package carries a
native binary, run directly (no Node needed; the package's postinstall only links that binary). Instruction: the
prompt of `claude -p`. Non-interactive: `--dangerously-skip-permissions` (the sandbox is the boundary), until it
stops or the deadline kills it. Credentials: ANTHROPIC_API_KEY of the controller, only into this sandbox;
`--meta-base-url` sets ANTHROPIC_BASE_URL (any Anthropic-Messages-compatible server). Egress: api.anthropic.com
(telemetry, error reporting and updates are switched off). Trajectory: `--output-format stream-json --verbose`,
one JSON event per line; tokens per model message (counted once per message id), totals and cost from its final
`result` event.
"""

from __future__ import annotations

from pathlib import Path

from mac.errors import ConfigError
from mac.metaagents.base import LaunchContext, register
from mac.metaagents.cliagent import CliAgent
from mac.metaagents.tools import npm_tool
from mac.metaagents.trajectory import MetaUsage, Step, Tokens, ToolCall, cut, iter_json_lines, number, summarize

VERSION = "2.1.332"


@register
class ClaudeCode(CliAgent):
    name = "claude-code"
    description = "Claude Code (npm @anthropic-ai/claude-code), ANTHROPIC_API_KEY"
    tool, version = "claude-code", VERSION
    default_hosts = ("api.anthropic.com",)
    key_vars, key_env = ("ANTHROPIC_API_KEY",), "ANTHROPIC_API_KEY"
    api, api_url = "anthropic", "https://api.anthropic.com"

    def install(self) -> None:
        npm_tool(self.tool, self.version, [f"@anthropic-ai/claude-code@{self.version}"])

    def binary(self) -> Path:
        found = sorted(self.prefix().glob("node_modules/@anthropic-ai/claude-code-linux-*/claude"))
        if not found:
            raise ConfigError(f"no claude binary for this platform under {self.prefix()}: remove that folder and "
                              "run again (npm must install the optional platform package)")
        return found[0]

    def env(self, ctx: LaunchContext) -> dict[str, str]:
        env = {"CLAUDE_CONFIG_DIR": "/tmp/claude", "DISABLE_TELEMETRY": "1", "DISABLE_ERROR_REPORTING": "1",
               "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "IS_SANDBOX": "1"}
        base_url = self.sandbox_base_url()
        if base_url:
            env["ANTHROPIC_BASE_URL"] = base_url
        return env

    def argv(self, ctx: LaunchContext) -> list[str]:
        model = ["--model", self.model] if self.model else []
        return self.shell(ctx, [str(self.binary()), "-p", '"$1"', "--output-format", "stream-json", "--verbose",
                                "--dangerously-skip-permissions", *model])

    def convert(self, native: Path) -> tuple[list[Step], MetaUsage | None]:
        steps: list[Step] = []
        counted: set[str] = set()
        final: dict | None = None
        for event in iter_json_lines(native):
            kind, message = event.get("type"), event.get("message")
            if kind == "assistant" and isinstance(message, dict):
                steps.append(_assistant(message, counted))
            elif kind == "user" and isinstance(message, dict):
                steps += _tool_results(message)
            elif kind == "result":
                final = event
                steps.append(Step(role="event", content=cut(f"result: {event.get('subtype', '')} "
                                                            f"{event.get('result', '')}"), source=self.name))
            elif kind == "system":
                steps.append(Step(role="event", content=f"system: {event.get('subtype', '')} "
                                                        f"model={event.get('model', '')}", source=self.name))
        usage = summarize(steps, source=self.name, model=self.model)
        if final is not None and isinstance(final.get("usage"), dict):
            totals = final["usage"]
            usage.cached_tokens = number(totals.get("cache_read_input_tokens"))
            usage.input_tokens = number(totals.get("input_tokens")) + usage.cached_tokens + \
                number(totals.get("cache_creation_input_tokens"))
            usage.output_tokens = number(totals.get("output_tokens"))
            cost = final.get("total_cost_usd")
            usage.cost_usd = float(cost) if isinstance(cost, (int, float)) else None
            usage.reported_by = "tool"
        return steps, usage


def _assistant(message: dict, counted: set[str]) -> Step:
    blocks = [b for b in message.get("content") or [] if isinstance(b, dict)]
    text = "\n".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
    calls = [ToolCall(id=str(b.get("id", "")), name=str(b.get("name", "")), arguments=b.get("input"))
             for b in blocks if b.get("type") == "tool_use"]
    tokens = Tokens()
    usage, message_id = message.get("usage"), str(message.get("id", ""))
    if isinstance(usage, dict) and message_id not in counted:  # stream-json repeats a message's usage per block
        counted.add(message_id)
        cached = number(usage.get("cache_read_input_tokens"))
        tokens = Tokens(input=number(usage.get("input_tokens")) + cached +
                        number(usage.get("cache_creation_input_tokens")),
                        output=number(usage.get("output_tokens")), cached=cached)
    return Step(role="assistant", content=cut(text), tool_calls=calls, tokens=tokens, source="claude-code")


def _tool_results(message: dict) -> list[Step]:
    content = message.get("content")
    if isinstance(content, str):
        return [Step(role="user", content=cut(content), source="claude-code")]
    steps = []
    for block in content or []:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            result = block.get("content")
            if isinstance(result, list):
                result = "\n".join(str(p.get("text", "")) for p in result if isinstance(p, dict))
            steps.append(Step(role="tool", content=cut(result or ""), tool_call_id=str(block.get("tool_use_id", "")),
                              source="claude-code"))
    return steps
