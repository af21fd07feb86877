"""Artifact dependencies: `[project] dependencies` of a workspace's pyproject.toml, installed INSIDE a sandbox
(role "install") into a layer folder that later artifact runs mount read-only at /mac/deps.

    layer = await install_deps(backend, snapshot_dir, layer_dir, allow_package_index=True)
    binds, env = layer_mounts(layer)      # add to the artifact run's SandboxSpec (extra_binds, env)

The controller only parses the TOML (no code runs) and checks each requirement is a plain PEP 508 string (no
installer options). uv runs in the sandbox with the runtime's interpreter, a private cache in /tmp, and:
- `allow_package_index=True`: network only to the package index, through the controller's allowlisting CONNECT
  proxy (mac.egress, started by the bwrap backend); every other destination is refused and recorded;
- otherwise `--offline`: only what needs no download (e.g. local `file:///workspace/...` projects) installs.
Build steps of sdists and local projects run in that sandbox, never in the controller. A failed or refused
install gives `installed=False` with a message naming the fix; the run goes on without the layer.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from mac.config import SandboxLimits
from mac.paths import runtime_home
from mac.sandbox.base import Bind, SandboxBackend, SandboxSpec
from mac.sandbox.runtime import Runtime, ensure_runtime_async, find_uv, others_can_reach

DEPS_DIR = "/mac/deps"
TOOLS_DIR = "/mac/tools"
MAX_REQUIREMENTS = 100
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.\- ]*\])?\s*([<>=!~;@ ].*)?$")


class DepsLayer(BaseModel):
    """The outcome of installing an artifact's dependencies."""

    requirements: list[str] = Field(default_factory=list)
    path: Path | None = None
    """The layer folder (mounted read-only at /mac/deps) when `installed`."""
    installed: bool = False
    message: str = ""
    events: list[dict[str, Any]] = Field(default_factory=list)


def read_requirements(workspace: Path) -> list[str]:
    """`[project] dependencies` of workspace/pyproject.toml ([] without one). Raises ValueError on a bad entry."""
    pyproject = workspace / "pyproject.toml"
    if pyproject.is_symlink() or not pyproject.is_file():
        return []
    data = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace"))
    deps = data.get("project", {}).get("dependencies", [])
    if not isinstance(deps, list) or len(deps) > MAX_REQUIREMENTS:
        raise ValueError(f"[project] dependencies must be a list of at most {MAX_REQUIREMENTS} strings")
    for dep in deps:
        if not isinstance(dep, str) or "\n" in dep or len(dep) > 300 or not _REQUIREMENT.match(dep.strip()):
            raise ValueError(f"not a plain requirement: {dep!r} (PEP 508, e.g. 'numpy>=1.26' or 'pkg @ file:///workspace/pkg')")
    return [d.strip() for d in deps]


def uv_for_sandboxes() -> Path:
    """The uv binary, copied under the runtime home when sandbox uids cannot reach the installed one."""
    found = find_uv()
    if found is None:
        raise FileNotFoundError("uv is not installed: `pip install uv`")
    path = Path(found).resolve()
    if os.geteuid() != 0 or others_can_reach(path):
        return path
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    target = runtime_home() / "tools" / f"uv-{digest}" / "uv"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        for folder in (target.parent.parent, target.parent):
            folder.chmod(0o755)
        staging = target.with_name(f".uv-{os.getpid()}")
        shutil.copyfile(path, staging)
        staging.chmod(0o755)
        staging.rename(target)
    return target


async def install_deps(backend: SandboxBackend, workspace: Path, layer_dir: Path, *, allow_package_index: bool,
                       runtime: Runtime | None = None, limits: SandboxLimits | None = None,
                       label: str = "deps") -> DepsLayer:
    """Install the workspace's dependencies into `layer_dir/layer` inside a role "install" sandbox."""
    try:
        requirements = read_requirements(workspace)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        return DepsLayer(message=f"pyproject.toml not used: {exc}")
    if not requirements:
        return DepsLayer(message="no dependencies declared")
    runtime = runtime or await ensure_runtime_async()
    uv = uv_for_sandboxes()
    layer_dir.mkdir(parents=True, exist_ok=True)
    argv = [f"{TOOLS_DIR}/uv", "pip", "install", "--target", "/mac/out/layer", "--python", str(runtime.python),
            "--compile-bytecode", "--no-progress", *([] if allow_package_index else ["--offline"]), "--",
            *requirements]
    spec = SandboxSpec(label=label, role="install", argv=argv, workspace=workspace, outputs=layer_dir,
                       runtime=runtime.prefix, allow_package_index=allow_package_index,
                       extra_binds=[Bind(src=uv.parent, dst=TOOLS_DIR)],
                       env={"UV_CACHE_DIR": "/tmp/uv-cache", "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1",
                            **_system_certificates()},
                       limits=limits or SandboxLimits(wall_sec=600, memory_mb=2048, tmp_mb=1024))
    result = await backend.run(spec)
    layer = layer_dir / "layer"
    layer_dir.chmod(0o755)  # the install sandbox had it private; artifact runs (other uids) bind the layer inside
    if result.returncode == 0 and layer.is_dir() and not layer.is_symlink():
        return DepsLayer(requirements=requirements, path=layer, installed=True, events=result.events,
                         message=f"installed {len(requirements)} requirement(s)")
    why = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1][:500]
    fix = "" if allow_package_index else " (the package index was not allowed: pass --allow-package-index)"
    return DepsLayer(requirements=requirements, events=result.events,
                     message=f"dependencies not installed{fix}: {why}; the artifact runs without them")


def _system_certificates() -> dict[str, str]:
    """Trust the host's CA bundle (bound at the same path), as the controller does: some sites add their own CA."""
    for bundle in ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"):
        if Path(bundle).is_file():
            return {"SSL_CERT_FILE": bundle, "UV_NATIVE_TLS": "1"}
    return {"UV_NATIVE_TLS": "1"}


def layer_mounts(layer: DepsLayer) -> tuple[list[Bind], dict[str, str]]:
    """extra_binds and env that make an installed layer importable in an artifact run (nothing otherwise)."""
    if not layer.installed or layer.path is None:
        return [], {}
    return [Bind(src=layer.path, dst=DEPS_DIR)], {"PYTHONPATH": DEPS_DIR}
