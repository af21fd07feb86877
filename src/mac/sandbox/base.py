"""The sandbox contract: run one untrusted command under isolation and limits, report what happened.

Backends build argv lists from `SandboxSpec` data (never shell strings), so a result can say exactly what
isolation it ran under. Every backend passes the conformance suite in tests/sandbox/ and the attack suite in
tests/attacks/ (the unsandboxed debug backend is expected to fail the attacks; it is refused for test splits).

Inside a sandbox:
    /workspace        the `workspace` bind (an artifact snapshot read-only, or a meta-agent's folder read-write)
    /mac/in           read-only inputs (e.g. problems.json without answers), if given
    /mac/out          a small writable folder for outputs (e.g. predictions.json), if given
    /tmp, /dev/shm    private size-limited tmpfs
    127.0.0.1:PORT    one relay per `Relay`, to a unix socket of the controller (the gateway, the eval service)
    the runtime       interpreter + venv with mac.sdk, openai and allowed packages, read-only; `python` on PATH
Nothing else of the host is visible; the environment is exactly `env` plus PATH, HOME, LANG (and PWD, which
the launcher sets to the working folder).

Role "exec" (candidate code, run by mac.judge) is the narrowest (see mac.sandbox.roles): no relays and so no
network at all, no writable bind (a read-only workspace holding the code, optional read-only inputs), a
read-only /dev, the command as pid 1 of its pid namespace (the kernel drops signals sent to it from inside, so
the programs it runs cannot kill it), and a seccomp filter that also refuses IPC objects that would outlive a
process (System V IPC, POSIX message queues) and prlimit on another process.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mac.config import SandboxLimits
from mac.errors import ConfigError, SandboxError
from mac.kinds import SandboxRole

if TYPE_CHECKING:
    from mac.evidence import EvidenceLog


class Relay(BaseModel):
    """Expose the host unix socket `socket` at `127.0.0.1:port` inside the sandbox's own network namespace."""

    socket: Path
    port: int


class Bind(BaseModel):
    src: Path
    dst: str
    writable: bool = False


class RootfsView(BaseModel):
    """A sandbox whose root is an image's root filesystem (a task environment, see mac.environments) rather than
    a tmpfs with the host's /usr: `lower` (the unpacked image, shared, never written) under this attempt's
    copy-on-write `upper` (bwrap --overlay), or `upper` alone bound read-write when `full_copy` (a bwrap without
    overlays got a full copy). The command runs as `uid`/`gid` inside; `host` folders appear read-only under
    /.mac/host (the interpreter of the in-environment server); `host_runtime` also binds the host's /usr (and
    its /bin, /lib links) over the image, for tiny images that carry no programs of their own."""

    model_config = ConfigDict(extra="forbid")

    lower: Path
    upper: Path
    work: Path
    full_copy: bool = False
    uid: int = 0
    gid: int = 0
    host: list[Path] = Field(default_factory=list)
    host_runtime: bool = False


class SandboxSpec(BaseModel):
    """What to run and under which view of the world."""

    model_config = ConfigDict(extra="forbid")

    label: str
    """Who this is, for evidence and logs (e.g. "trial-3/dev-eval-7")."""
    role: SandboxRole = "artifact"
    """"artifact" (dev eval / verify), "dev" (meta-agent), "exec" (candidate code), "install" (dependency layer),
    "environment" (a task environment, with `rootfs`)."""
    argv: list[str]
    """The command; a leading "python" means the runtime's interpreter."""
    env: dict[str, str] = Field(default_factory=dict)
    workspace: Path | None = None
    workspace_writable: bool = False
    inputs: Path | None = None
    outputs: Path | None = None
    extra_binds: list[Bind] = Field(default_factory=list)
    cwd: str = "/workspace"
    relays: list[Relay] = Field(default_factory=list)
    limits: SandboxLimits = Field(default_factory=SandboxLimits)
    runtime: Path | None = None
    """Prefix of the runtime venv to use (None: the default runtime, built on first use)."""
    allow_package_index: bool = False
    """Only for role "install": network to the package index through the controller's allowlist."""
    interactive: bool = False
    """stdin and stdout are pipes the caller drives through `SandboxProcess.channel()` (stdout is then not
    captured into the result); otherwise stdin is /dev/null and stdout is captured."""
    rootfs: RootfsView | None = None
    """A task environment's root (role "environment"): the command runs verbatim, relays are its own business
    (their socket folders appear at /run/mac/<i>/), and the sandbox runs as the environments' shared uid."""


class SandboxResult(BaseModel):
    """What happened. Output beyond `limits.output_bytes` is drained and counted, not kept."""

    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    timed_out: bool = False
    killed_by: str | None = None
    """"wall", "memory", "pids", "cpu", "signal:N" or None."""
    wall_sec: float = 0.0
    uid: int | None = None
    events: list[dict[str, Any]] = Field(default_factory=list)
    """Denials and kills seen (also appended to the evidence log)."""


class SandboxProcess(ABC):
    """A started sandbox. `wait` returns its result; `kill` ends the whole tree."""

    @abstractmethod
    async def wait(self) -> SandboxResult: ...

    @abstractmethod
    async def kill(self, reason: str = "killed") -> None: ...

    def channel(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """(its stdout, its stdin) for a spec with `interactive=True`. Closing the writer gives the command EOF."""
        raise SandboxError("this sandbox was not started with interactive=True: set it in the SandboxSpec")

    def memory_kills(self) -> int | None:
        """How many processes of this sandbox the kernel's OOM killer has killed so far (None: not known here)."""
        return None


class SandboxOptions(BaseModel):
    """Options of a backend, as data (a job's `sandbox_options`). Each backend extends it with its own `Options`;
    an unknown (misspelt) option is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid")

    runtime_packages: list[str] = Field(default_factory=list)
    """Extra packages of the default runtime (a domain's allowed packages)."""


class SandboxBackend(ABC):
    """An isolation backend: bwrap (default) or the unsandboxed debug backend, or a plugin's (`mac.sandboxes`).

    `isolated` is the policy bit: False means the backend isolates nothing, and trials, verification and the
    test split refuse it. `Options` is the model of the backend's options; the registry constructs a backend as
    `Backend(evidence, options)`."""

    name: ClassVar[str]
    isolated: ClassVar[bool] = True
    Options: ClassVar[type[SandboxOptions]] = SandboxOptions

    def __init__(self, evidence: EvidenceLog | None = None, options: SandboxOptions | None = None, **fields: Any):
        """`evidence`: where denials go. `options` (or keyword `fields`): validated as this backend's Options."""
        self.evidence = evidence
        self.options = self.options_from(options, **fields)

    @classmethod
    def options_from(cls, options: SandboxOptions | Mapping[str, Any] | None = None, **fields: Any) -> SandboxOptions:
        """`options` and keyword `fields` validated as this backend's Options; ConfigError names a misspelt one."""
        data = options.model_dump() if isinstance(options, SandboxOptions) else dict(options or {})
        try:
            return cls.Options.model_validate({**data, **fields})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"sandbox backend {cls.name!r}: bad options ({problems}); its options: "
                              f"{', '.join(sorted(cls.Options.model_fields))}") from None

    @abstractmethod
    async def start(self, spec: SandboxSpec) -> SandboxProcess:
        """Start `spec`; raises SandboxError (naming the fix) when this machine cannot run it."""

    async def run(self, spec: SandboxSpec) -> SandboxResult:
        process = await self.start(spec)
        return await process.wait()

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Backend name, versions, and which isolation features are active (for result.json)."""
