"""Copy a workspace that untrusted code wrote, without trusting anything in it.

The controller (often root) reads every file it copies, so the walk must never be tricked into reading
something outside the workspace, nor into running for long (mac.sandbox.walk bounds entries, folders, depth,
path length, symlinks, files, bytes and time, and keeps few descriptors open):

- symlinks are never followed and not recreated: they are skipped and recorded;
- device files, FIFOs and sockets are skipped and recorded (opened with O_NONBLOCK so a FIFO cannot hang us);
- regular files with more than one hard link are skipped and recorded: the controller cannot tell a link made
  inside the workspace from one to a secret elsewhere on the same filesystem, and a root controller would read it;
- entries whose names hold control characters (or bidi overrides, or bytes that are not UTF-8) are refused:
  skipped and recorded with the name escaped, so no such name reaches an artifact, a log or a terminal;
- `__pycache__` folders and `*.pyc` files are skipped: an unchecked hash-based .pyc runs instead of the reviewed
  source, and the copy changes mtimes anyway;
- the walk goes through directory file descriptors (openat with O_NOFOLLOW), so a directory swapped for a symlink
  while we walk is refused rather than followed;
- past a limit the walk raises TreeRefused (a SandboxError) and the partial copy is thrown away (mac.trash).

The copy is world-readable (files 0644 or 0755, folders 0755) so a sandbox uid can read it, and it executes or
imports nothing. `sha256` is the content hash (see `content_hash`), which freezes an artifact. Both functions
block: from the event loop, call them through `mac.offload.off_loop` (they take its `deadline`).
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from pydantic import BaseModel, Field

from mac.offload import Deadline
from mac.sandbox.walk import BoundedWalk, Skipped, TreeLimits, TreeRefused, has_control_chars
from mac.trash import discard

__all__ = ["HASH_LIMITS", "Skipped", "Snapshot", "TreeLimits", "TreeRefused", "content_hash", "snapshot_workspace"]

_CHUNK = 1 << 20
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
_SKIPPED_NAMES = {"__pycache__"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
HASH_LIMITS = TreeLimits(files=10**7, bytes=1 << 40, dirs=10**6, entries=10**7, symlinks=10**6, seconds=None)
"""`content_hash` of a folder the controller made itself (a frozen artifact): only depth and names bound it."""


class Snapshot(BaseModel):
    """A copied workspace: where it is, how much was copied, and its content hash."""

    path: Path
    files: int
    bytes: int
    sha256: str
    """sha256 over the sorted relative paths and the contents of the copied files (see `content_hash`)."""
    skipped: list[Skipped] = Field(default_factory=list)
    skipped_total: int = 0
    """How many entries were skipped (`skipped` lists the first of them)."""


class _CopyWalk(BoundedWalk):
    """The snapshot rules over a bounded walk; regular files go to `sink(rel, executable)` (None: hash only)."""

    def __init__(self, limits: TreeLimits, deadline: Deadline | None, dst: Path | None = None):
        super().__init__(limits, deadline)
        self.dst = dst
        self.digests: dict[str, str] = {}

    def enter(self, rel: str) -> None:
        if self.dst is not None:
            (self.dst / rel).mkdir(mode=0o755)
            (self.dst / rel).chmod(0o755)

    def visit(self, dir_fd: int, name: str, rel: str, st: os.stat_result) -> bool:
        if has_control_chars(name):
            self.skip(rel, "control_chars")
        elif stat.S_ISLNK(st.st_mode):
            self.skip(rel, "symlink", _readlink(name, dir_fd))
        elif stat.S_ISDIR(st.st_mode):
            if name not in _SKIPPED_NAMES:
                return True
            self.skip(rel + "/", "bytecode")
        elif not stat.S_ISREG(st.st_mode):
            self.skip(rel, "special")
        elif name.endswith(_SKIPPED_SUFFIXES):
            self.skip(rel, "bytecode")
        else:
            self._file(dir_fd, name, rel)
        return False

    def _file(self, dir_fd: int, name: str, rel: str) -> None:
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except OSError:
            self.skip(rel, "unreadable")
            return
        try:
            st = os.fstat(fd)  # re-check on the opened file: the entry may have been swapped since lstat
            if not stat.S_ISREG(st.st_mode):
                self.skip(rel, "special")
                return
            if st.st_nlink > 1:
                self.skip(rel, "hardlink")
                return
            self.files += 1
            self._bound("files", self.files, rel)
            self.digests[rel] = self._copy(fd, rel, bool(st.st_mode & 0o111))
        finally:
            os.close(fd)

    def _copy(self, fd: int, rel: str, executable: bool) -> str:
        digest = hashlib.sha256()
        sink = self._open_target(rel, executable)
        try:
            while chunk := os.read(fd, _CHUNK):
                self.bytes += len(chunk)
                self._bound("bytes", self.bytes, rel)
                self.deadline.check()
                digest.update(chunk)
                if sink is not None:
                    sink.write(chunk)
        finally:
            if sink is not None:
                sink.close()
        return digest.hexdigest()

    def _open_target(self, rel: str, executable: bool):
        if self.dst is None:
            return None
        fd = os.open(self.dst / rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        os.fchmod(fd, 0o755 if executable else 0o644)
        return os.fdopen(fd, "wb")

    def tree_hash(self) -> str:
        total = hashlib.sha256()
        for rel in sorted(self.digests):
            total.update(rel.encode("utf-8", "surrogateescape") + b"\0" + self.digests[rel].encode() + b"\n")
        return total.hexdigest()


def _limits(limits: TreeLimits | None, max_bytes: int | None, max_files: int | None) -> TreeLimits:
    limits = limits or TreeLimits()
    update = {k: v for k, v in (("bytes", max_bytes), ("files", max_files)) if v is not None}
    return limits.model_copy(update=update) if update else limits


def snapshot_workspace(src: Path, dst: Path, *, max_bytes: int | None = None, max_files: int | None = None,
                       limits: TreeLimits | None = None, deadline: Deadline | None = None) -> Snapshot:
    """Copy `src` into the new folder `dst` under the rules of this module; returns what was copied.

    `limits` (default TreeLimits(); `max_bytes`/`max_files` override two of them) bound the walk, `deadline`
    (default: `limits.seconds`) lets a caller stop it. Raises TreeRefused past a limit, SandboxError when `src`
    is not a real folder, mac.offload.Cancelled/DeadlineExceeded; the partial copy is gone in every case.
    """
    src, dst = Path(src), Path(dst)
    dst.mkdir(mode=0o755, parents=True, exist_ok=False)
    dst.chmod(0o755)
    walk = _CopyWalk(_limits(limits, max_bytes, max_files), deadline, dst)
    try:
        walk.run(src)
    except BaseException:
        discard(dst)  # a refused copy may hold thousands of folders: deleted in the background
        raise
    return Snapshot(path=dst, files=walk.files, bytes=walk.bytes, sha256=walk.tree_hash(), skipped=walk.skipped,
                    skipped_total=walk.skipped_total)


def content_hash(path: Path, *, limits: TreeLimits | None = None, deadline: Deadline | None = None) -> str:
    """The snapshot hash of a folder (same walk and skip rules as `snapshot_workspace`, bounded by `limits`,
    default HASH_LIMITS), or the sha256 of one file."""
    path, limits = Path(path), limits or HASH_LIMITS
    deadline = deadline or Deadline(limits.seconds, "content hash")
    if path.is_file() and not path.is_symlink():
        digest, size = hashlib.sha256(), 0
        fd = os.open(path, _FILE_FLAGS)
        try:
            while chunk := os.read(fd, _CHUNK):
                size += len(chunk)
                if size > limits.bytes:
                    raise TreeRefused("bytes", size, limits.bytes, path.name)
                deadline.check()
                digest.update(chunk)
        finally:
            os.close(fd)
        return digest.hexdigest()
    walk = _CopyWalk(limits, deadline)
    walk.run(path)
    return walk.tree_hash()


def _readlink(name: str, dir_fd: int) -> str:
    try:
        return os.readlink(name, dir_fd=dir_fd)[:500]
    except OSError:
        return ""

