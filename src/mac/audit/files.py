"""Read the files of a folder that untrusted code wrote, without being tricked into reading anything else.

Like the snapshot copier (mac.sandbox.snapshot): the walk goes through directory file descriptors opened with
O_NOFOLLOW, never follows a symlink (it reports it), skips special files and files with more than one hard link
(a root auditor must not quote a secret hard-linked into the workspace), and bounds files, bytes and depth.
Vendor folders (virtualenvs, .git, node_modules, caches) are listed as skipped, or, for the static scan (which
reads every file the artifact can read), walked with their files marked `vendor`. Files are yielded one at a time
(`walk_tree`), so a caller never needs to hold a whole tree in memory.
"""

from __future__ import annotations

import builtins
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterator

MAX_FILES = 20_000
"""As many as a freeze keeps (mac.trial.lifecycle.SNAPSHOT_MAX_FILES): every file the artifact can read is read."""
MAX_FILE_BYTES = 32 << 20
"""A larger file is not read (and is a finding: the artifact could read what the audit did not)."""
MAX_TOTAL_BYTES = 256 << 20
"""As much as a freeze keeps (SNAPSHOT_MAX_BYTES). Files are handed over one at a time, so this is read, not held."""
FIRST = "agent.py"
"""Read before anything else, so padding a folder cannot push the entry point past the limits."""
MAX_DEPTH = 24
MAX_DIRS = 50_000
"""Folders entered at most: a flood of empty folders costs a bounded walk, then a recorded skip."""
VENDOR_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", "site-packages", "dist-packages", ".tox",
               ".mypy_cache", ".pytest_cache", ".ruff_cache", ".cache", ".ipynb_checkpoints", ".hg", ".svn"}
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)


@dataclass
class SourceFile:
    rel: str
    data: bytes
    vendor: bool = False
    """Inside a vendor folder (a virtualenv, node_modules, .git, a cache): third-party or tool files."""


@dataclass
class Skip:
    rel: str
    reason: str
    """"symlink -> TARGET", "hardlink", "special", "too large", "vendor folder", "limit", "unreadable"."""


@dataclass
class FileSet:
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    bytes: int = 0

    def by_rel(self) -> dict[str, builtins.bytes]:  # `bytes` in this class is the field
        return {f.rel: f.data for f in self.files}


def every_file(name: str) -> bool:
    return True


def read_tree(root: Path, want: Callable[[str], bool] = every_file, *, max_files: int = MAX_FILES,
              max_bytes: int = MAX_TOTAL_BYTES, vendor: bool = False) -> FileSet:
    """The files under `root` whose name `want` accepts (sorted by relative path). A missing root gives an empty set.
    Vendor folders are listed as skipped unless `vendor`."""
    out = FileSet()
    for item in walk_tree(root, want, max_files=max_files, max_bytes=max_bytes, vendor=vendor):
        if isinstance(item, Skip):
            out.skipped.append(item)
        else:
            out.files.append(item)
            out.bytes += len(item.data)
    out.files.sort(key=lambda f: f.rel)
    return out


def walk_tree(root: Path, want: Callable[[str], bool] = every_file, *, max_files: int = MAX_FILES,
              max_bytes: int = MAX_TOTAL_BYTES, vendor: bool = False) -> Iterator[SourceFile | Skip]:
    """Each file under `root` (agent.py first) or why it was skipped, one at a time. At most MAX_DEPTH directory
    descriptors are open at once (one per level of the current path)."""
    try:
        root_fd = os.open(root, _DIR_FLAGS)
    except OSError:
        return
    walk = _Walk(want, max_files, max_bytes, vendor)
    yield from walk.directory(root_fd, "", 0, False)


class _Walk:
    def __init__(self, want: Callable[[str], bool], max_files: int, max_bytes: int, vendor: bool):
        self.want, self.max_files, self.max_bytes, self.vendor = want, max_files, max_bytes, vendor
        self.files = self.bytes = self.dirs = 0

    def directory(self, dir_fd: int, rel_dir: str, depth: int, in_vendor: bool) -> Iterator[SourceFile | Skip]:
        try:
            names = sorted(os.listdir(dir_fd), key=lambda n: (not (rel_dir == "" and n == FIRST), n))
            for name in names:
                yield from self.entry(dir_fd, name, f"{rel_dir}{name}", depth, in_vendor)
        finally:
            os.close(dir_fd)

    def entry(self, dir_fd: int, name: str, rel: str, depth: int, in_vendor: bool) -> Iterator[SourceFile | Skip]:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            yield Skip(rel, "unreadable")
            return
        if stat.S_ISLNK(st.st_mode):
            yield Skip(rel, f"symlink -> {_readlink(name, dir_fd)}")
        elif stat.S_ISDIR(st.st_mode):
            yield from self.subdirectory(dir_fd, name, rel, depth, in_vendor)
        elif not stat.S_ISREG(st.st_mode):
            yield Skip(rel, "special")
        elif self.want(name):
            yield self.read(dir_fd, name, rel, st, in_vendor)

    def subdirectory(self, dir_fd: int, name: str, rel: str, depth: int, in_vendor: bool
                     ) -> Iterator[SourceFile | Skip]:
        is_vendor = name in VENDOR_DIRS or name.endswith((".egg-info", ".dist-info"))
        if is_vendor and not self.vendor:
            yield Skip(rel + "/", "vendor folder")
        elif depth >= MAX_DEPTH:
            yield Skip(rel + "/", "limit: too deep")
        elif self.dirs >= MAX_DIRS:
            yield Skip(rel + "/", "limit: too many folders")
        else:
            self.dirs += 1
            try:
                fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError:
                yield Skip(rel + "/", "unreadable")
                return
            yield from self.directory(fd, rel + "/", depth + 1, in_vendor or is_vendor)

    def read(self, dir_fd: int, name: str, rel: str, st: os.stat_result, in_vendor: bool) -> SourceFile | Skip:
        if st.st_nlink > 1:
            return Skip(rel, "hardlink")
        if st.st_size > MAX_FILE_BYTES:
            return Skip(rel, f"too large ({st.st_size} bytes)")
        if self.files >= self.max_files or self.bytes + st.st_size > self.max_bytes:
            return Skip(rel, "limit: too many files or bytes")
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except OSError:
            return Skip(rel, "unreadable")
        try:
            again = os.fstat(fd)
            if not stat.S_ISREG(again.st_mode) or again.st_nlink > 1:  # swapped since the stat
                return Skip(rel, "special")
            data = _read_all(fd, MAX_FILE_BYTES)
        finally:
            os.close(fd)
        self.files += 1
        self.bytes += len(data)
        return SourceFile(rel, data, in_vendor)


def _read_all(fd: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(fd, min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _readlink(name: str, dir_fd: int) -> str:
    try:
        return os.readlink(name, dir_fd=dir_fd)[:300]
    except OSError:
        return "?"
