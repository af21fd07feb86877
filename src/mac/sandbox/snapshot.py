"""Copy a workspace that untrusted code wrote, without trusting anything in it.

The controller (often root) reads every file it copies, so the walk must never be tricked into reading
something outside the workspace:

- symlinks are never followed and not recreated: they are skipped and recorded;
- device files, FIFOs and sockets are skipped and recorded (opened with O_NONBLOCK so a FIFO cannot hang us);
- regular files with more than one hard link are skipped and recorded: the controller cannot tell a link made
  inside the workspace from one to a secret elsewhere on the same filesystem, and a root controller would read it;
- `__pycache__` folders and `*.pyc` files are skipped: an unchecked hash-based .pyc runs instead of the reviewed
  source, and the copy changes mtimes anyway;
- the walk goes through directory file descriptors (openat with O_NOFOLLOW), so a directory swapped for a symlink
  while we walk is refused rather than followed;
- total bytes and file count are bounded (SandboxError past a limit; the partial copy is removed).

The copy is world-readable (files 0644 or 0755, folders 0755) so a sandbox uid can read it, and it executes or
imports nothing. `sha256` is the content hash (see `content_hash`), which freezes an artifact.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

from pydantic import BaseModel, Field

from mac.errors import SandboxError

_CHUNK = 1 << 20
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
_SKIPPED_NAMES = {"__pycache__"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


class Skipped(BaseModel):
    """An entry left out of a snapshot, and why ("symlink", "hardlink", "special", "bytecode", "unreadable")."""

    path: str
    reason: str
    target: str = ""
    """Where a skipped symlink pointed (read with readlink, never followed): evidence for the auditor."""


class Snapshot(BaseModel):
    """A copied workspace: where it is, how much was copied, and its content hash."""

    path: Path
    files: int
    bytes: int
    sha256: str
    """sha256 over the sorted relative paths and the contents of the copied files (see `content_hash`)."""
    skipped: list[Skipped] = Field(default_factory=list)


class _Walk:
    """Walks `src` by directory fds; yields regular files to a callback, records what it skips."""

    def __init__(self, max_bytes: int, max_files: int):
        self.max_bytes, self.max_files = max_bytes, max_files
        self.files = 0
        self.bytes = 0
        self.digests: dict[str, str] = {}
        self.skipped: list[Skipped] = []

    def run(self, src: Path, on_dir, on_file) -> None:
        try:
            root_fd = os.open(src, _DIR_FLAGS)
        except OSError as exc:
            raise SandboxError(f"cannot read workspace {src}: {exc.strerror}; it must be a real folder, not a symlink") from exc
        stack: list[tuple[int, str]] = [(root_fd, "")]
        try:
            while stack:
                dir_fd, rel_dir = stack.pop()
                try:
                    self._walk_dir(dir_fd, rel_dir, stack, on_dir, on_file)
                finally:
                    os.close(dir_fd)
        finally:
            for fd, _ in stack:
                os.close(fd)

    def _walk_dir(self, dir_fd: int, rel_dir: str, stack: list, on_dir, on_file) -> None:
        for name in sorted(os.listdir(dir_fd)):
            rel = f"{rel_dir}{name}"
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                self.skipped.append(Skipped(path=rel, reason="unreadable"))
                continue
            if stat.S_ISLNK(st.st_mode):
                self.skipped.append(Skipped(path=rel, reason="symlink", target=_readlink(name, dir_fd)))
            elif stat.S_ISDIR(st.st_mode):
                if name in _SKIPPED_NAMES:
                    self.skipped.append(Skipped(path=rel + "/", reason="bytecode"))
                    continue
                try:
                    fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
                except OSError:
                    self.skipped.append(Skipped(path=rel + "/", reason="unreadable"))
                    continue
                on_dir(rel)
                stack.append((fd, rel + "/"))
            elif not stat.S_ISREG(st.st_mode):
                self.skipped.append(Skipped(path=rel, reason="special"))
            elif name.endswith(_SKIPPED_SUFFIXES):
                self.skipped.append(Skipped(path=rel, reason="bytecode"))
            else:
                self._file(dir_fd, name, rel, on_file)

    def _file(self, dir_fd: int, name: str, rel: str, on_file) -> None:
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except OSError:
            self.skipped.append(Skipped(path=rel, reason="unreadable"))
            return
        try:
            st = os.fstat(fd)  # re-check on the opened file: the entry may have been swapped since lstat
            if not stat.S_ISREG(st.st_mode):
                self.skipped.append(Skipped(path=rel, reason="special"))
                return
            if st.st_nlink > 1:
                self.skipped.append(Skipped(path=rel, reason="hardlink"))
                return
            self.files += 1
            if self.files > self.max_files:
                raise SandboxError(f"workspace has more than {self.max_files} files: remove generated files "
                                   "(virtualenvs, caches, data) from it")
            digest = hashlib.sha256()
            executable = bool(st.st_mode & 0o111)
            with on_file(rel, executable) as sink:
                while chunk := os.read(fd, _CHUNK):
                    self.bytes += len(chunk)
                    if self.bytes > self.max_bytes:
                        raise SandboxError(f"workspace is larger than {self.max_bytes >> 20} MiB: remove large files "
                                           "(virtualenvs, data, checkpoints) from it")
                    digest.update(chunk)
                    if sink is not None:
                        sink.write(chunk)
            self.digests[rel] = digest.hexdigest()
        finally:
            os.close(fd)

    def tree_hash(self) -> str:
        total = hashlib.sha256()
        for rel in sorted(self.digests):
            total.update(rel.encode("utf-8", "surrogateescape") + b"\0" + self.digests[rel].encode() + b"\n")
        return total.hexdigest()


class _NullSink:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        return None


def snapshot_workspace(src: Path, dst: Path, *, max_bytes: int = 256 << 20, max_files: int = 20000) -> Snapshot:
    """Copy `src` into the new folder `dst` under the rules of this module; returns what was copied.

    Raises SandboxError when a limit is exceeded or `src` is not a real folder (the partial copy is removed).
    """
    src, dst = Path(src), Path(dst)
    dst.mkdir(mode=0o755, parents=True, exist_ok=False)
    dst.chmod(0o755)
    walk = _Walk(max_bytes, max_files)

    def on_dir(rel: str) -> None:
        (dst / rel).mkdir(mode=0o755)
        (dst / rel).chmod(0o755)

    def on_file(rel: str, executable: bool):
        target = dst / rel
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        os.fchmod(fd, 0o755 if executable else 0o644)
        return os.fdopen(fd, "wb")

    try:
        walk.run(src, on_dir, on_file)
    except BaseException:
        shutil.rmtree(dst, ignore_errors=True)
        raise
    return Snapshot(path=dst, files=walk.files, bytes=walk.bytes, sha256=walk.tree_hash(), skipped=walk.skipped)


def content_hash(path: Path, *, max_bytes: int = 1 << 40, max_files: int = 10**7) -> str:
    """The snapshot hash of a folder (same walk and skip rules as `snapshot_workspace`), or the sha256 of one file."""
    path = Path(path)
    if path.is_file() and not path.is_symlink():
        digest = hashlib.sha256()
        fd = os.open(path, _FILE_FLAGS)
        try:
            while chunk := os.read(fd, _CHUNK):
                digest.update(chunk)
        finally:
            os.close(fd)
        return digest.hexdigest()
    walk = _Walk(max_bytes, max_files)
    walk.run(path, lambda rel: None, lambda rel, executable: _NullSink())
    return walk.tree_hash()


def _readlink(name: str, dir_fd: int) -> str:
    try:
        return os.readlink(name, dir_fd=dir_fd)[:500]
    except OSError:
        return ""
