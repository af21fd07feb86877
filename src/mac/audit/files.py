"""Read the files of a folder that untrusted code wrote, without being tricked into reading anything else.

Like the snapshot copier (mac.sandbox.snapshot): the walk goes through directory file descriptors opened with
O_NOFOLLOW, never follows a symlink (it reports it), skips special files and files with more than one hard link
(a root auditor must not quote a secret hard-linked into the workspace), and bounds files, bytes and depth.
Vendor folders (virtualenvs, .git, node_modules, caches) are listed as skipped, not read.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

MAX_FILES = 5000
MAX_FILE_BYTES = 8 << 20
MAX_TOTAL_BYTES = 32 << 20
FIRST = "agent.py"
"""Read before anything else, so padding a folder cannot push the entry point past the limits."""
MAX_DEPTH = 24
SCANNED_SUFFIXES = (".py", ".pyw", ".json", ".jsonl", ".toml", ".txt", ".cfg", ".in")
VENDOR_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", "site-packages", "dist-packages", ".tox",
               ".mypy_cache", ".pytest_cache", ".ruff_cache", ".cache", ".ipynb_checkpoints", ".hg", ".svn"}
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)


@dataclass
class SourceFile:
    rel: str
    data: bytes


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
    max_files: int = MAX_FILES
    max_bytes: int = MAX_TOTAL_BYTES

    def by_rel(self) -> dict[str, bytes]:
        return {f.rel: f.data for f in self.files}


def wanted(name: str) -> bool:
    low = name.lower()
    return low.endswith(SCANNED_SUFFIXES) or low in ("pyproject.toml", "setup.cfg", "pipfile")


def read_tree(root: Path, want: Callable[[str], bool] = wanted, *, max_files: int = MAX_FILES,
              max_bytes: int = MAX_TOTAL_BYTES) -> FileSet:
    """The files under `root` whose name `want` accepts (sorted by relative path). A missing root gives an empty set."""
    out = FileSet(max_files=max_files, max_bytes=max_bytes)
    try:
        root_fd = os.open(root, _DIR_FLAGS)
    except OSError:
        return out
    stack: list[tuple[int, str, int]] = [(root_fd, "", 0)]
    while stack:
        dir_fd, rel_dir, depth = stack.pop()
        try:
            _read_dir(dir_fd, rel_dir, depth, stack, out, want)
        finally:
            os.close(dir_fd)
    out.files.sort(key=lambda f: f.rel)
    return out


def _read_dir(dir_fd: int, rel_dir: str, depth: int, stack: list, out: FileSet, want: Callable[[str], bool]) -> None:
    for name in sorted(os.listdir(dir_fd), key=lambda n: (not (rel_dir == "" and n == FIRST), n)):
        rel = f"{rel_dir}{name}"
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except OSError:
            out.skipped.append(Skip(rel, "unreadable"))
            continue
        if stat.S_ISLNK(st.st_mode):
            out.skipped.append(Skip(rel, f"symlink -> {_readlink(name, dir_fd)}"))
        elif stat.S_ISDIR(st.st_mode):
            _enter_dir(dir_fd, name, rel, depth, stack, out)
        elif not stat.S_ISREG(st.st_mode):
            out.skipped.append(Skip(rel, "special"))
        elif want(name):
            _read_file(dir_fd, name, rel, st, out)


def _enter_dir(dir_fd: int, name: str, rel: str, depth: int, stack: list, out: FileSet) -> None:
    if name in VENDOR_DIRS or name.endswith((".egg-info", ".dist-info")):
        out.skipped.append(Skip(rel + "/", "vendor folder"))
    elif depth >= MAX_DEPTH:
        out.skipped.append(Skip(rel + "/", "limit: too deep"))
    else:
        try:
            stack.append((os.open(name, _DIR_FLAGS, dir_fd=dir_fd), rel + "/", depth + 1))
        except OSError:
            out.skipped.append(Skip(rel + "/", "unreadable"))


def _read_file(dir_fd: int, name: str, rel: str, st: os.stat_result, out: FileSet) -> None:
    if st.st_nlink > 1:
        out.skipped.append(Skip(rel, "hardlink"))
    elif st.st_size > MAX_FILE_BYTES:
        out.skipped.append(Skip(rel, f"too large ({st.st_size} bytes)"))
    elif len(out.files) >= out.max_files or out.bytes + st.st_size > out.max_bytes:
        out.skipped.append(Skip(rel, "limit: too many files or bytes"))
    else:
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except OSError:
            out.skipped.append(Skip(rel, "unreadable"))
            return
        try:
            again = os.fstat(fd)
            if not stat.S_ISREG(again.st_mode) or again.st_nlink > 1:  # swapped since the stat
                out.skipped.append(Skip(rel, "special"))
                return
            data = _read_all(fd, MAX_FILE_BYTES)
        finally:
            os.close(fd)
        out.files.append(SourceFile(rel, data))
        out.bytes += len(data)


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
