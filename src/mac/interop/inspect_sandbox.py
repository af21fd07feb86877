"""An Inspect AI sandbox plugin: `sandbox=("mac-bwrap", "IMAGE")` runs samples in MAC environments (bubblewrap,
no Docker). Registered through the `inspect_ai` entry point (mac.interop._inspect_registry); needs `inspect_ai`.

The config names the image (see `image_of`): an OCI layout or rootfs folder, a Dockerfile, a file holding an image
reference, or the reference itself. No network. `MAC_INSPECT_HOST_RUNTIME=1` binds the host's /usr over the image.
Each sample gets its own attempt (a fresh overlay), removed at sample_cleanup.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, overload

from inspect_ai.util import ExecResult, SandboxEnvironment, sandboxenv

from mac.environments.base import EnvironmentSpec
from mac.environments.bwrap import BwrapEnvBackend
from mac.errors import EnvError


PREFIXES = ("docker://", "oci:", "rootfs:", "dockerfile:")


def image_of(config: Any) -> str:
    """The image a sandbox config names. Inspect passes a config string as a path under the task's folder: an OCI
    layout folder (index.json) or a root filesystem folder, a Dockerfile, or a file holding an image reference;
    a reference given inline (docker://NAME, oci:PATH, ...) is found inside that path."""
    text = config if isinstance(config, str) else getattr(config, "image", None)
    if not text:
        raise ValueError('the mac-bwrap sandbox needs an image: sandbox=("mac-bwrap", "image-folder")')
    path = Path(text)
    if path.is_dir():
        return f"{'oci' if (path / 'index.json').is_file() else 'rootfs'}:{path}"
    if path.is_file():
        return f"dockerfile:{path.parent}" if path.name == "Dockerfile" else path.read_text().strip()
    starts = [text.find(prefix) for prefix in PREFIXES if prefix in text]
    return text[min(starts):] if starts else text


@sandboxenv(name="mac-bwrap")
class MacBwrapSandbox(SandboxEnvironment):
    def __init__(self, env) -> None:
        super().__init__()
        self.env = env

    @classmethod
    async def sample_init(cls, task_name: str, config: Any, metadata: dict[str, str]) -> dict[str, SandboxEnvironment]:
        spec = EnvironmentSpec(image=image_of(config), base=Path(os.getcwd()), label=f"inspect-{task_name}",
                               host_runtime=os.environ.get("MAC_INSPECT_HOST_RUNTIME") == "1")
        return {"default": cls(await BwrapEnvBackend().start(spec))}

    @classmethod
    async def sample_cleanup(cls, task_name: str, config: Any, environments: dict[str, SandboxEnvironment],
                             interrupted: bool) -> None:
        for environment in environments.values():
            if isinstance(environment, MacBwrapSandbox):
                await environment.env.stop()

    async def exec(self, cmd: list[str], input: str | bytes | None = None, cwd: str | None = None,
                   env: dict[str, str] | None = None, user: str | None = None, timeout: int | None = None,
                   timeout_retry: bool = True, concurrency: bool = True) -> ExecResult[str]:
        data = input.encode() if isinstance(input, str) else input
        result = await self.env.exec(list(cmd), cwd=cwd, env=env, timeout=timeout, user=user, stdin=data)
        if result.timed_out:
            raise TimeoutError(f"command timed out after {timeout}s")
        code = result.returncode if result.returncode is not None else 124
        return ExecResult(success=code == 0, returncode=code, stdout=result.stdout, stderr=result.stderr)

    async def write_file(self, file: str, contents: str | bytes) -> None:
        data = contents.encode() if isinstance(contents, str) else contents
        result = await self.env.exec(["sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "sh", file], stdin=data)
        if result.returncode != 0:
            raise PermissionError(f"cannot write {file}: {result.stderr.strip()}")

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    async def read_file(self, file: str, text: bool = True) -> str | bytes:
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            try:
                await self.env.download_file(file, Path(folder) / "f")
            except EnvError as exc:
                raise FileNotFoundError(file) from exc
            data = (Path(folder) / "f").read_bytes()
        return data.decode("utf-8") if text else data
