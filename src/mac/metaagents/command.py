"""`command`: any command line as the meta-agent (experiments, red-team runs, third-party agents).

    mac run --domain arith --meta-agent command --command "python my_agent_builder.py"

The command runs through `sh -c` inside the meta-agent's sandbox with the same environment as any meta-agent
(cwd /workspace). Quote it as one argument.
"""

from __future__ import annotations

from typing import Any

from mac.errors import ConfigError
from mac.metaagents.base import LaunchContext, MetaAgent, register


@register
class CommandMetaAgent(MetaAgent):
    name = "command"
    description = "run any command line as the meta-agent (--command '...')"

    def __init__(self, command: str | None = None, **options: Any):
        super().__init__(**options)
        if not command or not command.strip():
            raise ConfigError("meta-agent 'command' needs a command line: --command \"python build.py\"")
        self.command = command

    def argv(self, ctx: LaunchContext) -> list[str]:
        return ["sh", "-c", self.command]

    def options(self) -> dict[str, Any]:
        return {"command": self.command}
