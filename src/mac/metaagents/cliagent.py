"""The shared template of adapters over real code-agent tools (mini-swe-agent, Claude Code, Codex, Gemini CLI).

A subclass says, in about a page: which pinned packages to install (`install`), the command line (`argv`, usually
`sh -c` so that secrets stay environment references), its environment, where its model lives (`default_hosts`,
`key_vars`), and how to turn its native log into trajectory steps (`convert`). This class does the rest:

- options `model`, `base_url` (an OpenAI-/Anthropic-/Gemini-compatible endpoint instead of the provider's),
  `egress_allow` (replaces the allowlist) are stored in config.json, never keys;
- credentials come from the controller's environment (`key_vars`, first one set) and go into the meta-agent's
  sandbox only, as `key_env`; a base URL on the controller's loopback becomes `host.mac.internal` inside (the
  egress proxy maps it back, for that port only);
- the tool's prefix is bound read-only at its own path; its native log goes to LOG_MOUNT and `collect` copies it
  (scrubbed of credentials) to trajectory/ with trajectory.jsonl and usage.json (mac.metaagents.trajectory).
"""

from __future__ import annotations

import os
import shlex
import time
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from mac.egress.rules import HOST_ALIAS
from mac.errors import ConfigError
from mac.metaagents.base import LOG_MOUNT, LaunchContext, MetaAgent
from mac.metaagents.tools import tool_prefix
from mac.metaagents.trajectory import MAX_NATIVE_BYTES, MetaUsage, Step, summarize, write_trajectory
from mac.preflight import Endpoint
from mac.sandbox.base import Bind, SandboxResult
from mac.store.atomic import write_text_atomic

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class CliAgent(MetaAgent):
    tool: ClassVar[str]
    version: ClassVar[str]
    default_model: ClassVar[str] = ""
    """Empty: the tool's own default model (no model flag)."""
    model_required: ClassVar[bool] = False
    default_hosts: ClassVar[tuple[str, ...]] = ()
    key_vars: ClassVar[tuple[str, ...]] = ()
    """Controller environment variables that may hold the key, in order of preference."""
    key_env: ClassVar[str] = ""
    """The variable the key gets inside the sandbox."""
    native_log: ClassVar[str] = "native.jsonl"
    """The tool's native log, in ctx.log_dir (LOG_MOUNT inside)."""
    api: ClassVar[str | None] = "openai"
    """Wire format of its model API for the preflight ("openai", "anthropic", "gemini"; None: not checked)."""
    api_url: ClassVar[str] = "https://api.openai.com/v1"
    """The provider's endpoint when no --meta-base-url is given."""

    def __init__(self, model: str | None = None, base_url: str | None = None,
                 egress_allow: list[str] | None = None, **options: Any):
        super().__init__(**options)
        self.model = model or self.default_model
        if not self.model and self.model_required:
            raise ConfigError(f"meta-agent {self.name!r} needs a model: --meta-model NAME")
        self.base_url = base_url.rstrip("/") if base_url else None
        self.egress_allow = list(egress_allow) if egress_allow else None
        self._key = self._find_key()

    def _find_key(self) -> str:
        for var in self.key_vars:
            if os.environ.get(var):
                return os.environ[var]
        if self.base_url:  # a self-hosted endpoint may need no key
            return "none"
        raise ConfigError(f"meta-agent {self.name!r} needs an API key: set {' or '.join(self.key_vars)} in the "
                          "controller's environment (it is passed only into the meta-agent's sandbox)")

    def options(self) -> dict[str, Any]:
        found = {"model": self.model, "base_url": self.base_url, "egress_allow": self.egress_allow}
        return {k: v for k, v in found.items() if v is not None}

    def model_endpoint(self) -> Endpoint | None:
        if self.api is None:
            return None
        key = None if self._key == "none" else self._key
        source = next((f"${var}" for var in self.key_vars if os.environ.get(var)), "")
        model = self.model.split("/", 1)[-1] if self.model else None
        return Endpoint(role="meta-agent model", api=self.api, base_url=self.base_url or self.api_url, model=model,
                        key=key, key_source=source, fix=f"--meta-model, --meta-base-url, {' or '.join(self.key_vars)}")

    # -- where it runs ---------------------------------------------------------------------------------------
    def prefix(self) -> Path:
        return tool_prefix(self.tool, self.version)

    def binds(self, ctx: LaunchContext) -> list[Bind]:
        return [Bind(src=self.prefix(), dst=str(self.prefix()))]

    def sandbox_base_url(self) -> str | None:
        """The base URL as seen from inside the sandbox (the controller's loopback is HOST_ALIAS there)."""
        if not self.base_url:
            return None
        parts = urlsplit(self.base_url)
        if parts.hostname in LOOPBACK:
            netloc = HOST_ALIAS + (f":{parts.port}" if parts.port else "")
            return urlunsplit(parts._replace(netloc=netloc))
        return self.base_url

    def egress_hosts(self, ctx: LaunchContext) -> list[str]:
        if self.egress_allow is not None:
            return self.egress_allow
        inside = self.sandbox_base_url()
        if inside:
            parts = urlsplit(inside)
            return [f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"]
        return list(self.default_hosts)

    def credentials(self) -> dict[str, str]:
        return {self.key_env: self._key} if self.key_env else {}

    def shell(self, ctx: LaunchContext, argv: list[str], setup: str = "") -> list[str]:
        """`sh -c` running `argv` with the instruction as "$1" and stdout into the native log (LOG_MOUNT); `setup`
        runs first. Secrets stay "$VAR" references, expanded inside the sandbox (command.txt is a trajectory file)."""
        command = " ".join(a if a.startswith('"$') else shlex.quote(a) for a in argv)
        return ["sh", "-c", f'{setup}exec {command} > {LOG_MOUNT}/{self.native_log}', self.name, ctx.instruction]

    def seconds_left(self, ctx: LaunchContext) -> int:
        return max(1, int(ctx.deadline - time.time()))

    # -- what it left ----------------------------------------------------------------------------------------
    @abstractmethod
    def convert(self, native: Path) -> tuple[list[Step], MetaUsage | None]:
        """Steps from the native log, and the tool's own totals if it reports them (else they are summed)."""

    def collect(self, ctx: LaunchContext, result: SandboxResult, trajectory: Path) -> None:
        super().collect(ctx, result, trajectory)
        if ctx.log_dir is None or not self._keep_native(ctx.log_dir, trajectory):
            write_trajectory(trajectory, [], summarize([], source=self.name, model=self.model))

    def collect_interrupted(self, log_dir: Path, folder: Path) -> bool:
        return self._keep_native(log_dir, folder)

    def _keep_native(self, log_dir: Path, trajectory: Path) -> bool:
        """The native log, scrubbed, as trajectory/native-*, converted into trajectory.jsonl and usage.json."""
        native = log_dir / self.native_log
        if not native.is_file() or native.is_symlink():
            return False
        with os.fdopen(os.open(native, os.O_RDONLY | os.O_NOFOLLOW), "rb") as fh:  # written by the sandbox
            text = fh.read(MAX_NATIVE_BYTES).decode("utf-8", "replace")
        trajectory.mkdir(parents=True, exist_ok=True)
        kept = trajectory / f"native-{self.native_log}"
        write_text_atomic(kept, self.scrub(text))
        steps, usage = self.convert(kept)
        write_trajectory(trajectory, steps, usage or summarize(steps, source=self.name, model=self.model))
        return True
