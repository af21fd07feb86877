"""The meta-agent adapter contract: how to start a meta-agent in its sandbox and how to collect its logs.

A trial (mac.trial) owns everything else: the workspace, the relays to the gateway and the evaluation
service, the deadline and the kill. An adapter only says what to run:

    class MyAgent(MetaAgent):
        name = "my-agent"
        def stage(self, ctx):            # optional: files the agent needs, bound read-only at /opt/metaagent
            (ctx.stage_dir / "run.py").write_text(...)
        def argv(self, ctx):             # the command inside the sandbox (cwd /workspace)
            return ["python", "/opt/metaagent/run.py", "--seed", str(ctx.seed)]

    register(MyAgent)                    # then `mac run --meta-agent my-agent`

Inside its sandbox (role "dev") a meta-agent sees /workspace (read-write: instruction.md, SDK.md,
dev_problems.json, and whatever it writes; `agent.py` there is the artifact), /opt/metaagent (read-only, what
`stage` wrote), and an environment with TASK_MODEL_API_BASE, TASK_MODEL_API_KEY (the dev token),
TASK_MODEL_NAME, EVALUATION_API_URL, MAC_DEADLINE (unix time), MAC_SEED, MAC_DOMAIN, plus `env(ctx)`.
`collect` writes the run's files into the trajectory folder (command.txt, return-code.txt, stdout.txt,
stderr.txt by default) so auditors work on files.

Adapters of real tools (mac.metaagents.cliagent) also use the optional hooks: `install()` (put the tool into a
cached prefix, before the deadline starts), `binds(ctx)` (extra read-only views such as that prefix),
`egress_hosts(ctx)` (what the egress proxy lets it reach: its model API), `credentials()` (its API key, from the
controller's environment, given to this sandbox only and scrubbed from the files `collect` writes). A writable
folder for the tool's own logs is at LOG_MOUNT (`ctx.log_dir` on the host).
"""

from __future__ import annotations

import json
import shlex
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from mac.errors import ConfigError
from mac.registry import Registry
from mac.sandbox.base import Bind, SandboxResult
from mac.store.atomic import write_text_atomic

STAGE_MOUNT = "/opt/metaagent"
"""Where `LaunchContext.stage_dir` appears (read-only) inside the meta-agent's sandbox."""
LOG_MOUNT = "/mac/out"
"""Where `LaunchContext.log_dir` appears (writable) inside the meta-agent's sandbox: the tool's native logs."""


@dataclass(frozen=True)
class LaunchContext:
    """What an adapter may know when it starts: no answers, no upstream key, no host paths but its own."""

    domain: str
    seed: int
    instruction: str
    deadline: float
    """Unix time of the development deadline (also MAC_DEADLINE in the environment)."""
    stage_dir: Path
    """Host folder the adapter may fill in `stage`; read-only at STAGE_MOUNT inside the sandbox."""
    env: dict[str, str] = field(default_factory=dict)
    """The environment the trial gives the sandbox (endpoints and the dev token)."""
    log_dir: Path | None = None
    """Host folder, writable at LOG_MOUNT inside, for the tool's native trajectory (read by `collect`)."""


class MetaAgent(ABC):
    """Base of every meta-agent adapter (a template: stage -> argv/env -> [trial runs it] -> collect)."""

    name: ClassVar[str]
    description: ClassVar[str] = ""

    def __init__(self, **options: Any):
        if options:
            raise ConfigError(f"meta-agent {self.name!r} does not take the option(s) {', '.join(sorted(options))}: "
                              "drop them (see the README for what each meta-agent takes)")

    def stage(self, ctx: LaunchContext) -> None:
        """Write the files the agent needs into `ctx.stage_dir` (default: nothing)."""

    @abstractmethod
    def argv(self, ctx: LaunchContext) -> list[str]:
        """The command to run inside the sandbox; a leading "python" is the sandbox runtime's interpreter."""

    def env(self, ctx: LaunchContext) -> dict[str, str]:
        """Extra environment variables (never keys of the host: adapters only get the gateway and a token)."""
        return {}

    def install(self) -> None:
        """Install the tool on the host if it is not cached yet (blocking; runs before the deadline starts)."""

    def binds(self, ctx: LaunchContext) -> list[Bind]:
        """Extra read-only views of host folders (e.g. the tool's prefix); default none."""
        return []

    def egress_hosts(self, ctx: LaunchContext) -> list[str]:
        """Allowlist of the egress proxy (mac.egress.rules entries); default none: every attempt denied, logged."""
        return []

    def credentials(self) -> dict[str, str]:
        """Environment variables with secrets for this sandbox only (never in config.json or trajectory files)."""
        return {}

    def scrub(self, text: str) -> str:
        """`text` with every credential value replaced, before it is written anywhere."""
        for name, value in self.credentials().items():
            if value and len(value) >= 4:
                text = text.replace(value, f"[{name}]")
        return text

    def options(self) -> dict[str, Any]:
        """The adapter options, as stored in config.json (and passed back to the constructor)."""
        return {}

    def model_endpoint(self) -> Any:
        """The meta-agent's own model endpoint as a `mac.preflight.Endpoint`, checked before a run spends
        anything; None (the default) when it has none of its own."""
        return None

    def collect_interrupted(self, log_dir: Path, folder: Path) -> bool:
        """Keep what a session cut short by a dead controller left in its log folder (`collect` never ran for it).
        Returns whether anything was kept. Built-in meta-agents write no tool log."""
        return False

    def collect(self, ctx: LaunchContext, result: SandboxResult, trajectory: Path) -> None:
        """Record the run as files in `trajectory`."""
        trajectory.mkdir(parents=True, exist_ok=True)
        write_text_atomic(trajectory / "command.txt", shlex.join(self.argv(ctx)) + "\n")
        write_text_atomic(trajectory / "return-code.txt", f"{result.returncode}\n")
        write_text_atomic(trajectory / "stdout.txt", self.scrub(result.stdout))
        write_text_atomic(trajectory / "stderr.txt", self.scrub(result.stderr))
        summary = result.model_dump(exclude={"stdout", "stderr"})
        write_text_atomic(trajectory / "sandbox.json", json.dumps(summary, indent=2, default=str) + "\n")


def _load_builtin() -> None:
    from mac.metaagents import (baseline, claude_code, codex, command, gemini_cli, mini_swe_agent,  # noqa: F401
                                redteam, reference)


METAAGENTS: Registry[type[MetaAgent]] = Registry("meta-agent", group="mac.metaagents", builtins=_load_builtin,
                                                  base=MetaAgent)
"""Every meta-agent adapter by name: the built-ins and `mac.metaagents` entry points of other packages."""


def register(cls: type[MetaAgent]) -> type[MetaAgent]:
    """Class decorator: make a meta-agent available by name."""
    return METAAGENTS.register(cls)


def get_metaagent(name: str, **options: Any) -> MetaAgent:
    """An adapter instance by name; ConfigError lists the known names."""
    return METAAGENTS.get(name)(**options)


def metaagent_names() -> list[str]:
    return METAAGENTS.names()
