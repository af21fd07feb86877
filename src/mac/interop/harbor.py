"""A Harbor environment that runs any Harbor task under bubblewrap, without Docker:

    harbor run -p TASK_DIR -a oracle -e mac.interop.harbor:BwrapEnvironment

Needs Harbor's Python (>= 3.12) with both `harbor` and `mac-bench` installed. The image is the task's
`[environment] docker_image` (pulled with skopeo; `oci:PATH` and `rootfs:PATH` relative to the task folder work
too), else `environment/Dockerfile` (built with podman/buildah). Network follows Harbor's policy: no-network, or
an allowlist of hostnames through MAC's egress proxy; `public` is the package index hosts. `--ek host_runtime=true`
binds the host's /usr over the image (tiny images without programs of their own). Log folders
/logs/{agent,verifier,artifacts} are created at start and downloaded by Harbor, as for any non-mounted provider.
"""

from __future__ import annotations

from pathlib import Path

from harbor.environments.base import BaseEnvironment, ExecResult
from harbor.environments.capabilities import EnvironmentCapabilities

from mac.environments.base import EnvironmentSpec, NetworkPolicy
from mac.environments.bwrap import BwrapEnvBackend
from mac.environments.bwrap import BwrapEnvironment as MacEnvironment
from mac.egress.rules import package_index_hosts
from mac.config import SandboxLimits
from mac.errors import EnvError

LOG_DIRS = "/logs/agent /logs/verifier /logs/artifacts"


class BwrapEnvironment(BaseEnvironment):
    """Harbor's BaseEnvironment on MAC's bwrap environment backend (see the module docstring)."""

    def __init__(self, *args, host_runtime: bool | str = False, **kwargs):
        self._host_runtime = str(host_runtime).lower() in ("1", "true", "yes")
        self._mac_env: MacEnvironment | None = None
        super().__init__(*args, **kwargs)

    @staticmethod
    def type() -> str:
        return "mac-bwrap"

    @property
    def capabilities(self) -> EnvironmentCapabilities:
        return EnvironmentCapabilities(disable_internet=True, network_allowlist=True,
                                       network_allowlist_hostnames=True, network_allowlist_wildcard_hostnames=True)

    def _validate_definition(self) -> None:
        if not self.task_env_config.docker_image and not (Path(self.environment_dir) / "Dockerfile").is_file():
            raise FileNotFoundError(f"{self.environment_dir}: set [environment] docker_image or add a Dockerfile")

    def _image(self) -> str:
        image = self.task_env_config.docker_image
        return image if image else f"dockerfile:{self.environment_dir}"

    def _network(self) -> NetworkPolicy:
        policy = getattr(self, "_network_policy", None)
        mode = str(getattr(getattr(policy, "network_mode", None), "value", "no-network"))
        if mode == "allowlist":
            return NetworkPolicy(allow=list(getattr(policy, "allowed_hosts", None) or []))
        if mode == "public":
            return NetworkPolicy(allow=package_index_hosts())
        return NetworkPolicy()

    async def start(self, force_build: bool) -> None:
        config = self.task_env_config
        limits = SandboxLimits(wall_sec=24 * 3600, memory_mb=config.memory_mb or 4096, cpus=float(config.cpus or 1),
                               pids=1024, disk_mb=config.storage_mb or 10240, tmp_mb=1024, output_bytes=8 << 20)
        spec = EnvironmentSpec(image=self._image(), base=Path(self.environment_dir).parent, label=self.session_id,
                               env=dict(config.env or {}), workdir=config.workdir, network=self._network(),
                               limits=limits, host_runtime=self._host_runtime)
        self._mac_env = await BwrapEnvBackend().start(spec)
        await self._env().exec(f"mkdir -p {LOG_DIRS} && chmod 777 {LOG_DIRS}")

    async def stop(self, delete: bool) -> None:
        if self._mac_env is not None:
            await self._mac_env.stop()
            self._mac_env = None

    def _env(self) -> MacEnvironment:
        if self._mac_env is None:
            raise EnvError("the environment is not started (call start first)")
        return self._mac_env

    async def upload_file(self, source_path: Path | str, target_path: str) -> None:
        await self._env().upload_file(Path(source_path), str(target_path))

    async def upload_dir(self, source_dir: Path | str, target_dir: str) -> None:
        await self._env().upload_dir(Path(source_dir), str(target_dir))

    async def download_file(self, source_path: str, target_path: Path | str) -> None:
        await self._env().download_file(str(source_path), Path(target_path))

    async def download_dir(self, source_dir: str, target_dir: Path | str) -> None:
        await self._env().download_dir(str(source_dir), Path(target_dir))

    async def exec(self, command: str, cwd: str | None = None, env: dict[str, str] | None = None,
                   timeout_sec: int | None = None, user: str | int | None = None) -> ExecResult:
        merged = self._merge_env(env) if hasattr(self, "_merge_env") else env
        result = await self._env().exec(command, cwd=cwd, env=merged, timeout=timeout_sec,
                                          user=None if user is None else str(user))
        code = result.returncode if result.returncode is not None else 124
        return ExecResult(stdout=result.stdout, stderr=result.stderr, return_code=code)
