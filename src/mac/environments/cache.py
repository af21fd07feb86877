"""The image cache: unpacked root filesystems, content-addressed, shared read-only by every environment.

    <env_cache_home>/                 $MAC_ENV_CACHE, else /var/cache/mac/environments (root) or the user cache
        rootfs/<key>/                 an unpacked image, owned by the environments' uid (its overlay lower)
        rootfs/<key>.json             what it was made from: ref, layers, config, bytes, skipped entries, last use
        rootfs/<key>.lock             held shared while an environment runs on it (prune skips it), exclusive
                                      while it is unpacked
        oci/                          layouts pulled by skopeo or built from Dockerfiles (blobs shared by digest)

`key` is the sha256 of the ordered layer digests (a chain id), so two references to the same layers share one
rootfs; a rootfs:PATH folder is imported as one layer and keyed by that layer's digest.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from mac.environments import images, oci
from mac.environments.oci import ImageConfig
from mac.environments.unpack import LayerApplier, Limits
from mac.errors import ImageError
from mac.sandbox.uids import environment_uid


def env_cache_home() -> Path:
    env = os.environ.get("MAC_ENV_CACHE")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/cache/mac/environments")
    return Path(platformdirs.user_cache_dir("mac")) / "environments"


def image_limits() -> Limits:
    text = os.environ.get("MAC_IMAGE_MAX_MB", "")
    return Limits(max_bytes=int(text) << 20) if text.isdigit() else Limits()


@dataclass(frozen=True)
class Image:
    """A ready root filesystem (`rootfs`) and how to run it."""

    key: str
    rootfs: Path
    config: ImageConfig
    ref: str


class ImageCache:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root is not None else env_cache_home()

    @property
    def rootfs_dir(self) -> Path:
        return self.root / "rootfs"

    def _prepare(self) -> None:
        for folder in (self.root, self.rootfs_dir, self.root / "oci", self.root / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o755 if folder != self.root / "tmp" else 0o700)

    def resolve(self, ref: images.ImageRef) -> Image:
        """The image for `ref`, fetched or built and unpacked on first use. Blocking (run it in a thread)."""
        self._prepare()
        if ref.kind == "rootfs":
            return self._import_rootfs(ref)
        if ref.kind == "oci":
            layout, tag = Path(ref.value), ref.tag
        elif ref.kind == "docker":
            layout, tag = images.pull(ref, self.root / "oci")
        else:
            layout, tag = images.build(ref, self.root / "oci")
        image = oci.read_layout(layout, tag)
        key = hashlib.sha256("\n".join(layer.digest for layer in image.layers).encode()).hexdigest()[:32]
        return self._ensure(key, str(ref), image.config, [layer.path for layer in image.layers],
                            verify=list(image.layers))

    def _import_rootfs(self, ref: images.ImageRef) -> Image:
        folder = Path(ref.value)
        if not folder.is_dir():
            raise ImageError(f"rootfs {folder} is not a folder: give a root filesystem folder (e.g. made by "
                             "mmdebstrap) or an OCI layout with oci:PATH")
        handle, tar_path = tempfile.mkstemp(prefix="rootfs-", suffix=".tar", dir=self.root / "tmp")
        os.close(handle)
        try:
            with tarfile.open(tar_path, "w") as tar:  # symlinks stay symlinks; nothing outside is read
                for entry in sorted(os.listdir(folder)):
                    tar.add(folder / entry, arcname=entry)
            digest = hashlib.sha256()
            with open(tar_path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
            config = _rootfs_config(folder)
            return self._ensure(digest.hexdigest()[:32], str(ref), config, [Path(tar_path)])
        finally:
            os.unlink(tar_path)

    def _ensure(self, key: str, ref: str, config: ImageConfig, layers: list[Path],
                verify: list[oci.Layer] | None = None) -> Image:
        target = self.rootfs_dir / key
        meta = self.rootfs_dir / f"{key}.json"
        with self._lock(key, exclusive=True):
            if not (target.is_dir() and meta.is_file()):
                for layer in verify or []:
                    oci.verify_blob(layer)
                self._unpack(key, ref, config, layers)
            info = json.loads(meta.read_text())
            info["last_used"] = time.time()
            meta.write_text(json.dumps(info))
        return Image(key, target, config, ref)  # the config of this reference: layers may be shared

    def _unpack(self, key: str, ref: str, config: ImageConfig, layers: list[Path]) -> None:
        uid = environment_uid()
        owner = (uid, uid) if uid is not None else None
        staging = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=self.rootfs_dir))
        applier = LayerApplier(str(staging), owner, image_limits())
        try:
            for layer in layers:
                with open(layer, "rb") as fh:
                    applier.apply(fh)
            staging.chmod(0o755)
            if owner is not None:
                os.chown(staging, *owner)
        except BaseException:
            applier.close()
            shutil.rmtree(staging, ignore_errors=True)
            raise
        applier.close()
        stats = applier.stats
        os.rename(staging, self.rootfs_dir / key)
        info = {"key": key, "ref": ref, "config": config.to_json(), "files": stats.files, "bytes": stats.bytes,
                "skipped": stats.skipped[:200], "created": time.time(), "last_used": time.time()}
        (self.rootfs_dir / f"{key}.json").write_text(json.dumps(info))

    @contextlib.contextmanager
    def _lock(self, key: str, exclusive: bool, wait: bool = True):
        fd = os.open(self.rootfs_dir / f"{key}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
            fcntl.flock(fd, flags)
            yield fd
        finally:
            os.close(fd)

    def lease(self, image: Image) -> int:
        """Hold `image` in use (a shared lock) until the returned descriptor is closed; prune skips it."""
        fd = os.open(self.rootfs_dir / f"{image.key}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)
        return fd

    def entries(self) -> list[dict]:
        """Every cached image's record (ref, key, files, bytes, skipped, created, last_used)."""
        found = []
        for meta in sorted(self.rootfs_dir.glob("*.json")) if self.rootfs_dir.is_dir() else []:
            try:
                found.append(json.loads(meta.read_text()))
            except (OSError, ValueError):
                continue
        return found

    def prune(self, older_than_sec: float = 0.0) -> list[dict]:
        """Remove cached images unused for `older_than_sec` (0: all) and not in use now; returns what went."""
        removed = []
        now = time.time()
        for info in self.entries():
            if now - info.get("last_used", 0) < older_than_sec:
                continue
            try:
                with self._lock(info["key"], exclusive=True, wait=False):
                    shutil.rmtree(self.rootfs_dir / info["key"], ignore_errors=True)
                    (self.rootfs_dir / f"{info['key']}.json").unlink(missing_ok=True)
                removed.append(info)
            except BlockingIOError:
                continue  # an environment runs on it
        if not older_than_sec:
            shutil.rmtree(self.root / "oci", ignore_errors=True)
        return removed


def _rootfs_config(folder: Path) -> ImageConfig:
    """A rootfs folder carries no image config; an optional `.mac-image.json` beside its content gives one."""
    sidecar = folder.parent / f"{folder.name}.mac-image.json"
    if sidecar.is_file():
        return ImageConfig.from_json(json.loads(sidecar.read_text()))
    return ImageConfig()
