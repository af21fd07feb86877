"""Harbor's on-disk task format, read by our own code.

    TASK/
    ├── task.toml          [environment] docker_image, cpus, memory_mb, storage_mb, network_mode / allow_internet,
    │                      allowed_hosts, workdir, env; [agent] timeout_sec, user; [verifier] timeout_sec, env,
    │                      user; [solution] env; [metadata]; [mac] image, host_runtime (MAC's own, ignored by Harbor)
    ├── instruction.md     what the agent is told
    ├── environment/       Dockerfile (built with podman/buildah when no image is given), compose files (unused)
    ├── solution/solve.sh  the reference solution, run at /solution by `mac task check` only
    └── tests/test.sh      run at /tests after the agent; writes /logs/verifier/reward.txt (a number) or
                           reward.json ({"reward": 1.0, ...}; preferred when both exist)

The image is `[mac] image`, else `[environment] docker_image` (which may also be oci:PATH or rootfs:PATH, relative
to the task folder), else `environment/Dockerfile`. Network differs from Harbor on purpose: a task that says
nothing gets **no network** (Harbor's default is public); `network_mode = "allowlist"` gives its `allowed_hosts`;
`"public"` (or `allow_internet = true`) gives the package index hosts plus whatever the operator allows. Variable
templates in `env` tables (`${VAR:-default}`) take their default: the controller's own variables never enter.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mac.config import SandboxLimits
from mac.egress.rules import package_index_hosts
from mac.environments.base import EnvironmentSpec, NetworkPolicy
from mac.errors import ConfigError

_TEMPLATE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EnvironmentSection(_Loose):
    docker_image: str | None = None
    cpus: float | None = None
    memory_mb: int | None = None
    storage_mb: int | None = None
    allow_internet: bool | None = None
    network_mode: str | None = None
    allowed_hosts: list[str] | None = None
    workdir: str | None = None
    env: dict[str, str] = Field(default_factory=dict)


class PhaseSection(_Loose):
    timeout_sec: float | None = None
    user: str | int | None = None
    env: dict[str, str] = Field(default_factory=dict)


class MacSection(_Loose):
    image: str | None = None
    host_runtime: bool = False


class TaskConfig(_Loose):
    environment: EnvironmentSection = Field(default_factory=EnvironmentSection)
    agent: PhaseSection = Field(default_factory=PhaseSection)
    verifier: PhaseSection = Field(default_factory=lambda: PhaseSection(timeout_sec=600.0))
    solution: PhaseSection = Field(default_factory=PhaseSection)
    metadata: dict[str, Any] = Field(default_factory=dict)
    mac: MacSection = Field(default_factory=MacSection)


class Task(BaseModel):
    path: Path
    name: str
    config: TaskConfig
    instruction: str

    @property
    def tests_dir(self) -> Path:
        return self.path / "tests"

    @property
    def solution_dir(self) -> Path:
        return self.path / "solution"

    @property
    def image(self) -> str:
        env = self.config.environment
        if self.config.mac.image:
            return self.config.mac.image
        if env.docker_image:
            return env.docker_image
        if (self.path / "environment" / "Dockerfile").is_file():
            return f"dockerfile:{self.path / 'environment'}"
        raise ConfigError(f"task {self.name} names no image: set [environment] docker_image (docker://NAME, "
                          "oci:PATH or rootfs:PATH) or add environment/Dockerfile")

    def network(self, public_allow: list[str] | None = None) -> NetworkPolicy:
        env = self.config.environment
        mode = env.network_mode or ("public" if env.allow_internet else "no-network")
        if mode == "no-network":
            return NetworkPolicy()
        if mode == "allowlist":
            return NetworkPolicy(allow=list(env.allowed_hosts or []))
        if mode == "public":
            return NetworkPolicy(allow=[*package_index_hosts(), *(public_allow or [])])
        raise ConfigError(f"task {self.name}: unknown network_mode {mode!r} (no-network, allowlist or public)")

    def environment_spec(self, label: str, *, public_allow: list[str] | None = None,
                         wall_sec: float = 3600.0, output_bytes: int = 1 << 20) -> EnvironmentSpec:
        env = self.config.environment
        limits = SandboxLimits(wall_sec=wall_sec, memory_mb=env.memory_mb or 4096, cpus=env.cpus or 1.0,
                               pids=1024, disk_mb=env.storage_mb or 10240, output_bytes=output_bytes, tmp_mb=1024)
        return EnvironmentSpec(image=self.image, base=self.path, label=label, env=resolve_templates(env.env),
                               workdir=env.workdir, network=self.network(public_allow), limits=limits,
                               host_runtime=self.config.mac.host_runtime,
                               user=None if self.config.agent.user is None else str(self.config.agent.user))


def resolve_templates(values: dict[str, str]) -> dict[str, str]:
    """`${VAR:-default}` -> default, `${VAR}` -> "" (the controller's environment is never copied in)."""
    return {key: _TEMPLATE.sub(lambda m: m.group(2) or "", str(value)) for key, value in values.items()}


def load_task(folder: Path) -> Task:
    """Read a Harbor task folder; raises ConfigError naming the file and the fix."""
    folder = Path(folder).resolve()
    toml_path = folder / "task.toml"
    if not toml_path.is_file():
        raise ConfigError(f"{folder} is not a Harbor task: no task.toml (see `mac task --help` for the layout)")
    try:
        config = TaskConfig.model_validate(tomllib.loads(toml_path.read_text()))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"{toml_path}: {exc}") from exc
    instruction_path = folder / "instruction.md"
    if not instruction_path.is_file():
        raise ConfigError(f"{folder}: no instruction.md (the task's instruction for the agent)")
    if not (folder / "tests" / "test.sh").is_file():
        raise ConfigError(f"{folder}: no tests/test.sh (it must write /logs/verifier/reward.txt or reward.json)")
    return Task(path=folder, name=folder.name, config=config, instruction=instruction_path.read_text())
