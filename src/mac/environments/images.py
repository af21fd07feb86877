"""Image references and how to get an OCI layout for each.

    docker://NAME[:TAG]    pulled from a registry by skopeo (a maintained tool; MAC speaks no registry protocol)
    NAME[:TAG]             the same (Harbor's `docker_image`)
    oci:PATH[:TAG]         a local OCI image layout
    rootfs:PATH            a folder holding a root filesystem
    dockerfile:PATH        a Dockerfile (or a folder holding one), built with podman or buildah when installed

Relative paths are resolved against `base` (a task's folder). Nothing here unpacks: see mac.environments.cache.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mac.errors import ImageError

KINDS = ("docker", "oci", "rootfs", "dockerfile")
PREBUILT_HINT = ("or point the task at a prebuilt image instead: `[environment] docker_image = \"oci:PATH\"` (an OCI "
                 "layout, e.g. from `skopeo copy docker://IMAGE oci:PATH` on a machine with a registry) or "
                 "`rootfs:PATH` (a root filesystem folder, e.g. from mmdebstrap)")


@dataclass(frozen=True)
class ImageRef:
    kind: str
    """One of KINDS."""
    value: str
    """The registry reference (docker), or an absolute path (oci, rootfs, dockerfile)."""
    tag: str | None = None
    """The tag inside an OCI layout, if named."""

    def __str__(self) -> str:
        if self.kind == "docker":
            return f"docker://{self.value}"
        return f"{self.kind}:{self.value}" + (f":{self.tag}" if self.tag else "")


def parse_ref(text: str, base: Path | None = None) -> ImageRef:
    """Parse an image reference (see the module docstring); raises ImageError for an empty or malformed one."""
    text = (text or "").strip()
    if not text:
        raise ImageError("empty image reference: use docker://NAME:TAG, oci:PATH, rootfs:PATH or dockerfile:PATH")
    if text.startswith("docker://"):
        return ImageRef("docker", text[len("docker://"):])
    for kind in ("oci", "rootfs", "dockerfile"):
        if text.startswith(kind + ":"):
            return _path_ref(kind, text[len(kind) + 1:], base)
    if "/" in text and (text.startswith(".") or text.startswith("/")):
        raise ImageError(f"image reference {text!r} looks like a path: prefix it with oci:, rootfs: or dockerfile:")
    return ImageRef("docker", text)


def _path_ref(kind: str, rest: str, base: Path | None) -> ImageRef:
    tag = None
    path = Path(rest)
    if kind == "oci" and not _absolute(path, base).exists() and ":" in rest:
        rest, tag = rest.rsplit(":", 1)
        path = Path(rest)
    return ImageRef(kind, str(_absolute(path, base)), tag)


def _absolute(path: Path, base: Path | None) -> Path:
    return path if path.is_absolute() else (Path(base) if base is not None else Path.cwd()) / path


def pull(ref: ImageRef, store: Path) -> tuple[Path, str]:
    """Copy a registry image into the OCI layout `store` with skopeo; returns (layout, tag)."""
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        raise ImageError(f"pulling {ref} needs skopeo: `apt-get install skopeo` (or `dnf install skopeo`), "
                         + PREBUILT_HINT)
    tag = ref.value.replace("/", "_").replace(":", "_").replace("@", "_")
    store.mkdir(parents=True, exist_ok=True)
    argv = [skopeo, "copy", "--override-os", "linux", "--override-arch", "amd64",
            f"docker://{ref.value}", f"oci:{store}:{tag}"]
    _run(argv, f"skopeo could not pull {ref}", timeout=3600)
    return store, tag


def build(ref: ImageRef, store: Path) -> tuple[Path, str]:
    """Build a Dockerfile with podman or buildah into the OCI layout `store`; returns (layout, tag)."""
    dockerfile = Path(ref.value)
    if dockerfile.is_dir():
        dockerfile = dockerfile / "Dockerfile"
    if not dockerfile.is_file():
        raise ImageError(f"no Dockerfile at {dockerfile}: " + PREBUILT_HINT)
    tool = shutil.which("podman") or shutil.which("buildah")
    if tool is None:
        raise ImageError(f"building {dockerfile} needs podman or buildah (`apt-get install podman`), "
                         + PREBUILT_HINT)
    name = f"localhost/mac-build-{os.getpid()}"
    tag = "built-" + hashlib.sha256(str(dockerfile.resolve()).encode()).hexdigest()[:16]
    store.mkdir(parents=True, exist_ok=True)
    verb = ["build"] if tool.endswith("podman") else ["bud"]
    _run([tool, *verb, "-f", str(dockerfile), "-t", name, str(dockerfile.parent)], f"{tool} could not build "
         f"{dockerfile}", timeout=3600)
    _run([tool, "push", name, f"oci:{store}:{tag}"], f"{tool} could not export the image", timeout=600)
    subprocess.run([tool, "rmi", name], capture_output=True, timeout=120)
    return store, tag


def _run(argv: list[str], what: str, timeout: float) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ImageError(f"{what}: {exc}; " + PREBUILT_HINT) from exc
    if done.returncode != 0:
        raise ImageError(f"{what}: {done.stderr.strip()[-800:]}; " + PREBUILT_HINT)
