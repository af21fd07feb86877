"""OCI image layouts: read one (index -> manifest -> config + layers, every blob checked against its digest), and
write one from tar layers (what tests, `mac env import` and the Dockerfile path produce).

    layout/
        oci-layout            {"imageLayoutVersion": "1.0.0"}
        index.json            manifests[], each with a digest and an optional ref name annotation (the tag)
        blobs/sha256/<hex>    manifests, configs and layers, named by the sha256 of their content
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from mac.errors import ImageError

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
REF_NAME = "org.opencontainers.image.ref.name"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
MAX_JSON_BYTES = 4 << 20


@dataclass(frozen=True)
class ImageConfig:
    """What an image says about how to run it."""

    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = ""
    cmd: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {"env": self.env, "workdir": self.workdir, "user": self.user, "cmd": list(self.cmd)}

    @classmethod
    def from_json(cls, data: dict) -> ImageConfig:
        return cls(dict(data.get("env") or {}), data.get("workdir") or "/", data.get("user") or "",
                   tuple(data.get("cmd") or ()))


@dataclass(frozen=True)
class Layer:
    digest: str
    media_type: str
    path: Path


@dataclass(frozen=True)
class OciImage:
    layers: tuple[Layer, ...]
    config: ImageConfig
    manifest_digest: str


def blob_path(layout: Path, digest: str) -> Path:
    if not _DIGEST.match(digest or ""):
        raise ImageError(f"bad blob digest {digest!r} in the OCI layout {layout}: only sha256 digests are supported")
    return layout / "blobs" / "sha256" / digest.split(":", 1)[1]


def _read_json(layout: Path, digest: str | None, path: Path | None = None) -> dict:
    path = path or blob_path(layout, digest or "")
    try:
        data = path.read_bytes()[:MAX_JSON_BYTES + 1]
    except OSError as exc:
        raise ImageError(f"cannot read {path} of the OCI layout {layout}: {exc}") from exc
    if digest is not None and "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise ImageError(f"blob {digest} of {layout} does not match its digest: the layout is corrupt")
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ImageError(f"{path} of the OCI layout {layout} is not JSON: {exc}") from exc


def read_layout(layout: Path, tag: str | None = None) -> OciImage:
    """The image in `layout` (the one named `tag`, or the only/first one); raises ImageError naming the problem."""
    layout = Path(layout)
    if not (layout / "index.json").is_file():
        raise ImageError(f"{layout} is not an OCI image layout (no index.json): make one with `skopeo copy "
                         "docker://IMAGE oci:DIR`, `podman save --format oci-dir`, or `mac env import DIR`")
    manifests = _read_json(layout, None, layout / "index.json").get("manifests") or []
    if tag is not None:
        manifests = [m for m in manifests if (m.get("annotations") or {}).get(REF_NAME) == tag]
    if not manifests:
        raise ImageError(f"no image{f' tagged {tag!r}' if tag else ''} in the OCI layout {layout}")
    descriptor = manifests[0]
    manifest = _read_json(layout, descriptor.get("digest"))
    if descriptor.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
        descriptor = _pick_platform(layout, manifest.get("manifests") or [])
        manifest = _read_json(layout, descriptor.get("digest"))
    config = _read_json(layout, (manifest.get("config") or {}).get("digest"))
    layers = tuple(Layer(d["digest"], d.get("mediaType", ""), blob_path(layout, d["digest"]))
                   for d in manifest.get("layers") or [])
    return OciImage(layers, _config(config), descriptor["digest"])


def _pick_platform(layout: Path, manifests: list[dict]) -> dict:
    for m in manifests:
        platform = m.get("platform") or {}
        if platform.get("os", "linux") == "linux" and platform.get("architecture", "amd64") in ("amd64", "x86_64"):
            return m
    raise ImageError(f"the image index in {layout} has no linux/amd64 image")


def _config(config: dict) -> ImageConfig:
    inner = config.get("config") or {}
    env = {}
    for item in inner.get("Env") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    cmd = tuple(inner.get("Entrypoint") or ()) + tuple(inner.get("Cmd") or ())
    return ImageConfig(env, inner.get("WorkingDir") or "/", str(inner.get("User") or ""), cmd)


def verify_blob(layer: Layer) -> None:
    """Check a layer blob against its digest before it is unpacked (streaming, constant memory)."""
    digest = hashlib.sha256()
    try:
        with layer.path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise ImageError(f"cannot read layer {layer.digest}: {exc}") from exc
    if "sha256:" + digest.hexdigest() != layer.digest:
        raise ImageError(f"layer {layer.digest} does not match its digest: the image layout is corrupt")


# ---- writing ---------------------------------------------------------------------------------------------------

def _put_blob(layout: Path, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def layer_from_dir(folder: Path) -> bytes:
    """A gzipped tar of `folder`'s content (symlinks kept as symlinks), owned by root like an image build's."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(Path(folder).rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(folder)))
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if info.isreg():
                with path.open("rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)
    return gzip.compress(buffer.getvalue(), mtime=0)


def write_layout(layout: Path, layers: list[bytes], *, env: dict[str, str] | None = None, workdir: str = "/",
                 user: str = "", cmd: list[str] | None = None, tag: str = "latest") -> str:
    """Write an OCI layout holding one image made of `layers` (gzipped tars, lowest first); returns the
    manifest digest."""
    layout = Path(layout)
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    layer_digests = [_put_blob(layout, data) for data in layers]
    diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(d)).hexdigest() for d in layers]
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Env": [f"{k}={v}" for k, v in (env or {}).items()], "WorkingDir": workdir, "User": user,
                         "Cmd": cmd or ["/bin/sh"]},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    config_bytes = json.dumps(config).encode()
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": _put_blob(layout, config_bytes), "size": len(config_bytes)},
                "layers": [{"mediaType": LAYER_TYPE, "digest": d, "size": len(data)}
                           for d, data in zip(layer_digests, layers)]}
    manifest_bytes = json.dumps(manifest).encode()
    manifest_digest = _put_blob(layout, manifest_bytes)
    index = {"schemaVersion": 2, "manifests": [{"mediaType": MANIFEST_TYPE, "digest": manifest_digest,
                                                 "size": len(manifest_bytes), "annotations": {REF_NAME: tag}}]}
    (layout / "index.json").write_text(json.dumps(index))
    return manifest_digest
