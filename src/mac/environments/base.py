"""The task environment contract: a running root filesystem made from a container image, driven by async calls.

    backend = get_env_backend("auto")                     # bwrap (default), podman or docker
    async with await backend.start(EnvironmentSpec(image="oci:./image", network=NetworkPolicy())) as env:
        result = await env.exec("pytest -q", cwd="/app", timeout=60)
        await env.upload_file(Path("patch.diff"), "/tmp/patch.diff")
        await env.download_dir("/logs/verifier", Path("out/verifier"))

An environment is one attempt: a writable copy-on-write layer over the image (nothing the attempt writes reaches
the image or another attempt). It has the image's environment variables, working folder and user, no network
unless `network` allows hosts (then only those, through the egress proxy, every attempt logged), and the limits
and cleanup of every sandbox (time, memory, processes, output, the whole process tree killed at stop).

`restart(binds=...)` stops every process and starts the same attempt's filesystem again, optionally with fresh
folders bound in: this is how tests run after an agent (nothing the agent started survives; /tests and
/logs/verifier are the controller's, not whatever the agent left at those paths).

Backends declare their isolation as data (`isolated`, `isolation`), and policy reads that, never the name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from mac.config import SandboxLimits


class NetworkPolicy(BaseModel):
    """No network (the default), or these egress allowlist entries (mac.egress.rules syntax)."""

    model_config = ConfigDict(extra="forbid")

    allow: list[str] = Field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.allow)


class EnvBind(BaseModel):
    """A host folder shown inside the environment (tests, a fresh /logs/verifier)."""

    src: Path
    dst: str
    writable: bool = False


class EnvironmentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: str
    """An image reference (mac.environments.images): docker://NAME, NAME:TAG, oci:PATH, rootfs:PATH, dockerfile:PATH."""
    base: Path | None = None
    """Folder that relative image paths are resolved against (a task's folder)."""
    label: str = "environment"
    env: dict[str, str] = Field(default_factory=dict)
    """Added to the image's environment variables."""
    workdir: str | None = None
    """Overrides the image's working folder."""
    user: str | None = None
    """Overrides the image's user (name or uid)."""
    network: NetworkPolicy = Field(default_factory=NetworkPolicy)
    limits: SandboxLimits = Field(default_factory=lambda: SandboxLimits(wall_sec=3600, memory_mb=4096, pids=1024))
    """Wall clock is the environment's whole life; output_bytes caps each exec's stdout and stderr."""
    binds: list[EnvBind] = Field(default_factory=list)
    host_runtime: bool = False
    """Bind the host's /usr read-only over the image (tiny test images that bring no programs)."""


class ExecResult(BaseModel):
    returncode: int | None
    """None when the command could not finish (killed at its timeout); negative for a signal."""
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    timed_out: bool = False
    wall_sec: float = 0.0


class Environment(ABC):
    """A started environment. Every operation is async; paths are inside the environment unless named host."""

    spec: EnvironmentSpec

    @abstractmethod
    async def exec(self, command: str | list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
                   timeout: float | None = None, user: str | None = None, stdin: bytes | None = None) -> ExecResult:
        """Run `command` (a shell string run by bash, else sh; or an argv list) and wait for it.

        Output beyond `spec.limits.output_bytes` per stream is cut and flagged. At `timeout` the command's whole
        process group is killed (`timed_out`). `user` other than the environment's own: see the backend's
        known differences (bwrap has one identity per environment). Raises EnvError when the environment is gone.
        """

    @abstractmethod
    async def upload_file(self, source: Path, target: str) -> None:
        """Copy a host file into the environment (parent folders are created)."""

    @abstractmethod
    async def upload_dir(self, source: Path, target: str) -> None:
        """Copy a host folder's content into `target` (created if missing)."""

    @abstractmethod
    async def download_file(self, source: str, target: Path) -> None:
        """Copy a file out of the environment (EnvError if missing or larger than the transfer cap)."""

    @abstractmethod
    async def download_dir(self, source: str, target: Path) -> None:
        """Copy a folder out; symlinks, devices and anything leaving `target` are dropped on the way in."""

    @abstractmethod
    async def restart(self, binds: list[EnvBind] | None = None) -> None:
        """Kill every process, then start the same filesystem again with `binds` (replacing the spec's)."""

    @abstractmethod
    async def stop(self) -> None:
        """Kill every process and remove the attempt's writable layer. Idempotent."""

    def describe(self) -> dict[str, Any]:
        return {"label": self.spec.label, "image": self.spec.image}

    async def _boot(self, binds: list[EnvBind]) -> None:
        """Start the first run (backends implement it); `started` calls it and stops on failure."""
        raise NotImplementedError

    async def started(self) -> Self:
        """Boot with the spec's binds; a failed boot cleans up whatever it had made, then raises."""
        try:
            await self._boot(self.spec.binds)
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class EnvironmentBackend(ABC):
    """Starts environments. `isolated` and `isolation` are what policy reads (e.g. whether untrusted agents may
    drive it, whether network limits hold), never `name`."""

    name: str
    isolated: bool = True
    isolation: dict[str, Any] = {}

    @classmethod
    def available(cls) -> tuple[bool, str]:
        """(usable on this machine, why not)."""
        return True, ""

    @abstractmethod
    async def start(self, spec: EnvironmentSpec) -> Environment:
        """Resolve the image (fetching or unpacking it on first use) and start an attempt on it."""

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "isolated": self.isolated, **self.isolation}
