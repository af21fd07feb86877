"""Apply an image layer (a tar stream) onto a root filesystem folder, treating the layer as untrusted input.

The controller is often root, so a crafted layer must never write outside the rootfs nor plant privileges:

- names are normalised (leading `/` and `./` dropped); a name with a `..` component is skipped;
- every parent folder is opened through directory file descriptors with O_NOFOLLOW, so a symlink planted by an
  earlier layer (`etc -> /etc`, `x -> ../../..`) is never followed: the member is skipped and recorded;
- hard links must point at a regular file inside the rootfs, reached the same way;
- whiteouts (`.wh.NAME` removes NAME, `.wh..wh..opq` empties the folder of what lower layers put there) are applied;
- character and block devices are skipped; setuid and setgid bits are dropped; FIFOs are created, sockets skipped;
- total bytes and entry count are bounded (ImageError past a limit; the caller removes the partial rootfs);
- everything is owned by `owner` (the uid environments run as), so the sandbox can write through its overlay.
"""

from __future__ import annotations

import os
import stat
import tarfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO

from mac.errors import ImageError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


@dataclass
class UnpackStats:
    files: int = 0
    bytes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason): "dotdot", "symlink-parent", "device", "socket", "hardlink-outside", "unsupported"."""


@dataclass
class Limits:
    max_bytes: int = 8 << 30
    max_entries: int = 2_000_000


class LayerApplier:
    """Applies layers in order onto `root` (an existing folder). One applier per rootfs being built."""

    def __init__(self, root: str, owner: tuple[int, int] | None, limits: Limits | None = None, *,
                 image: bool = True):
        self.root_fd = os.open(root, _DIR_FLAGS)
        self.owner = owner
        self.image = image
        """False: a plain archive coming out of an environment (no whiteouts; links and FIFOs are dropped)."""
        self.limits = limits or Limits()
        self.stats = UnpackStats()
        self._entries = 0
        self._this_layer: set[str] = set()

    def close(self) -> None:
        os.close(self.root_fd)

    def apply(self, stream: IO[bytes]) -> None:
        """Apply one layer (tar, optionally gzip/bz2/xz compressed) read from `stream`."""
        self._this_layer = set()
        try:
            with tarfile.open(fileobj=stream, mode="r|*") as tar:
                for member in tar:
                    self._entry(tar, member)
        except tarfile.TarError as exc:
            raise ImageError(f"cannot read an image layer ({exc}): the layer must be a tar stream (gzip, bzip2 "
                             "or xz compressed, or plain); zstd layers are not supported, convert the image "
                             "with `skopeo copy --dest-compress-format gzip`") from exc

    def _entry(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        self._entries += 1
        if self._entries > self.limits.max_entries:
            raise ImageError(f"image has more than {self.limits.max_entries} entries: refused (a size limit)")
        parts = _parts(member.name)
        if parts is None:
            self.stats.skipped.append((member.name, "dotdot"))
            return
        if not parts:
            return  # the root itself
        *dirs, name = parts
        parent = self._open_parent(dirs, member.name)
        if parent is None:
            return
        try:
            self._place(tar, member, parent, name, "/".join(parts))
        finally:
            os.close(parent)

    def _place(self, tar: tarfile.TarFile, member: tarfile.TarInfo, parent: int, name: str, rel: str) -> None:
        if not self.image and not (member.isdir() or member.isreg()):
            self.stats.skipped.append((rel, "link-or-special"))
            return
        if name == OPAQUE and self.image:
            self._opaque(parent, rel.rsplit("/", 1)[0] if "/" in rel else "")
            return
        if name.startswith(WHITEOUT) and self.image:
            _remove(parent, name[len(WHITEOUT):])
            return
        self._this_layer.add(rel)
        if member.isdir():
            self._dir(parent, name, member)
        elif member.isreg():
            self._file(tar, parent, name, member)
        elif member.issym():
            _remove(parent, name)
            os.symlink(member.linkname, name, dir_fd=parent)
            self._chown(parent, name)
        elif member.islnk():
            self._hardlink(parent, name, member)
        elif member.isfifo():
            _remove(parent, name)
            os.mkfifo(name, _mode(member.mode), dir_fd=parent)
            self._chown(parent, name)
        else:
            reason = "device" if (member.ischr() or member.isblk()) else "unsupported"
            self.stats.skipped.append((rel, reason))

    def _open_parent(self, dirs: list[str], original: str) -> int | None:
        """A descriptor of the folder `dirs` under the root, creating missing folders; None (recorded) when a
        component is a symlink or not a folder."""
        fd = os.dup(self.root_fd)
        for part in dirs:
            try:
                os.mkdir(part, 0o755, dir_fd=fd)
                self._chown(fd, part)
            except FileExistsError:
                pass
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError:
                os.close(fd)
                self.stats.skipped.append((original, "symlink-parent"))
                return None
            os.close(fd)
            fd = nxt
        return fd

    def _dir(self, parent: int, name: str, member: tarfile.TarInfo) -> None:
        try:
            st = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if not stat.S_ISDIR(st.st_mode):
                _remove(parent, name)
                os.mkdir(name, 0o755, dir_fd=parent)
        except FileNotFoundError:
            os.mkdir(name, 0o755, dir_fd=parent)
        os.chmod(name, _mode(member.mode) | 0o700, dir_fd=parent, follow_symlinks=False)
        self._chown(parent, name)

    def _file(self, tar: tarfile.TarFile, parent: int, name: str, member: tarfile.TarInfo) -> None:
        self._count(member.size)
        _remove(parent, name)
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=parent)
        try:
            source = tar.extractfile(member)
            while source is not None and (chunk := source.read(_CHUNK)):
                os.write(fd, chunk)
            os.fchmod(fd, _mode(member.mode))
            if self.owner is not None:
                os.fchown(fd, *self.owner)
            os.utime(fd, (member.mtime, member.mtime))
        finally:
            os.close(fd)
        self.stats.files += 1

    def _hardlink(self, parent: int, name: str, member: tarfile.TarInfo) -> None:
        parts = _parts(member.linkname)
        if not parts:
            self.stats.skipped.append((member.name, "hardlink-outside"))
            return
        *dirs, target = parts
        src_parent = self._open_parent(dirs, member.name)
        if src_parent is None:
            return
        try:
            st = os.stat(target, dir_fd=src_parent, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                self.stats.skipped.append((member.name, "hardlink-outside"))
                return
            _remove(parent, name)
            os.link(target, name, src_dir_fd=src_parent, dst_dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            self.stats.skipped.append((member.name, "hardlink-outside"))
        finally:
            os.close(src_parent)

    def _opaque(self, parent: int, folder: str) -> None:
        """Empty `folder` of what lower layers put there (entries of this layer stay)."""
        prefix = f"{folder}/" if folder else ""
        for entry in os.listdir(parent):
            if f"{prefix}{entry}" not in self._this_layer:
                _remove(parent, entry)

    def _count(self, size: int) -> None:
        self.stats.bytes += size
        if self.stats.bytes > self.limits.max_bytes:
            raise ImageError(f"image unpacks to more than {self.limits.max_bytes >> 20} MiB: refused (raise the "
                             "limit with MAC_IMAGE_MAX_MB if the image is legitimately that large)")

    def _chown(self, parent: int, name: str) -> None:
        if self.owner is not None:
            os.chown(name, *self.owner, dir_fd=parent, follow_symlinks=False)


def _parts(name: str) -> list[str] | None:
    """Path components of a member name under the root; None when it climbs out with `..`."""
    parts = [p for p in PurePosixPath(name.lstrip("/")).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        return None
    return parts


def _mode(mode: int) -> int:
    return mode & 0o1777  # drops setuid and setgid


def _remove(parent: int, name: str) -> None:
    """Remove `name` in the folder `parent` (recursively for folders), never following symlinks."""
    try:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(name, dir_fd=parent)
        return
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    try:
        for entry in os.listdir(fd):
            _remove(fd, entry)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent)
