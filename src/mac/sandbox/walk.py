"""Walking a tree that untrusted code wrote, bounded in every dimension.

The controller walks folders a sandbox wrote (snapshots, the freeze, disk checks). A hostile tree can be wide
(a million entries in one folder), deep (a chain of thousands of folders), long-named, full of symlinks, or
just big. A walk must end soon and cleanly on every one of them:

- every entry counts toward `entries` (an inode each: files, folders, links, specials, skipped ones), folders
  toward `dirs`, symlinks toward `symlinks`, regular files toward `files` and their bytes toward `bytes`;
- `depth` bounds nesting and `path_bytes` the length of a relative path;
- the walk holds one descriptor per level of the current path (at most `depth` + 2 open at once), never one
  per pending folder, and lists a folder lazily, stopping at the entry limit;
- the `Deadline` (mac.offload) is checked at every entry: past it, or once cancelled, the walk stops.

Going past a limit raises `TreeRefused` (a SandboxError naming the limit, the value and the fix): a refusal the
caller records as evidence. Subclasses decide what an entry means (`visit`): `mac.sandbox.snapshot` copies and
hashes under the snapshot rules, `mac.sandbox.diskwatch` adds up disk blocks.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from mac.errors import SandboxError
from mac.offload import Deadline

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_SKIPPED_LISTED = 1000
"""Skipped entries listed one by one (the rest are counted in `skipped_total`)."""
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class TreeLimits(BaseModel):
    """Bounds of one walk. The defaults fit an artifact: code, prompts, small data (not a virtualenv)."""

    model_config = ConfigDict(extra="forbid")

    files: int = 20_000
    bytes: int = 256 << 20
    dirs: int = 5_000
    entries: int = 50_000
    """Every inode seen: files, folders, symlinks, sockets, skipped bytecode..."""
    depth: int = 48
    path_bytes: int = 1024
    """Longest relative path (UTF-8 bytes)."""
    symlinks: int = 1_000
    seconds: float | None = 120.0
    """Wall clock of the whole walk (None: no time limit)."""


LIVE_LIMITS = TreeLimits(files=10**9, bytes=1 << 62, dirs=10**9, entries=2_000_000, depth=256, path_bytes=4096,
                         symlinks=10**9, seconds=120.0)
"""A live workspace (whatever a meta-agent installed in it) is walked within these, to measure it or hand it to a
sandbox uid; no honest workspace gets near them, and a tree past them is refused rather than walked for long."""

_WHAT = {
    "files": ("has more than {n} files", "remove generated files (virtualenvs, caches, data) from it"),
    "bytes": ("is larger than {mib} MiB", "remove large files (virtualenvs, data, checkpoints) from it"),
    "dirs": ("has more than {n} folders", "remove generated folders (virtualenvs, caches, node_modules) from it"),
    "entries": ("has more than {n} entries (files, folders, links)", "remove generated files and folders from it"),
    "depth": ("nests folders deeper than {n} levels", "flatten its folder structure"),
    "path_bytes": ("has a path longer than {n} bytes", "use shorter file and folder names"),
    "symlinks": ("has more than {n} symlinks", "remove the symlinks (they are never copied anyway)"),
}


class TreeRefused(SandboxError):
    """A walk stopped at a limit: `limit` names it ("dirs", "depth", ...), `value` was reached, `allowed` is the
    bound, `path` is where (relative, escaped)."""

    def __init__(self, limit: str, value: int, allowed: int, path: str = ""):
        what, fix = _WHAT.get(limit, ("is over its {n} " + limit + " limit", "make it smaller"))
        where = f" (at {path!r})" if path else ""
        super().__init__(f"the workspace {what.format(n=allowed, mib=allowed >> 20)}{where}: {fix}")
        self.limit, self.value, self.allowed, self.path = limit, value, allowed, path

    def detail(self) -> dict[str, Any]:
        """For evidence records."""
        return {"limit": self.limit, "value": self.value, "allowed": self.allowed, "path": self.path}


class Skipped(BaseModel):
    """An entry left out of a walk, and why: "symlink", "hardlink", "special", "bytecode", "unreadable" or
    "control_chars" (a name with control or bidi characters; `path` is always shown escaped)."""

    path: str
    reason: str
    target: str = ""
    """Where a skipped symlink pointed (read with readlink, never followed): evidence for the auditor."""


def has_control_chars(name: str) -> bool:
    """Does a file name hold characters a terminal or a reader could be fooled by: C0/C1 controls, DEL, bidi
    overrides, or bytes that are not UTF-8 (which os functions hand over as lone surrogates)?"""
    return any(unicodedata.category(c) in ("Cc", "Cs") or c in _BIDI_CONTROLS for c in name)


def escaped(text: str) -> str:
    """`text` with control and non-printable characters written as escapes (safe to log or show)."""
    return text if text.isprintable() else repr(text)[1:-1]


class BoundedWalk:
    """Walk `root` by directory fds under `limits`; subclasses implement `visit` (and may use `enter`)."""

    def __init__(self, limits: TreeLimits | None = None, deadline: Deadline | None = None):
        self.limits = limits or TreeLimits()
        self.deadline = deadline or Deadline(self.limits.seconds, "tree walk")
        self.entries = self.dirs = self.files = self.symlinks = self.bytes = 0
        self.skipped: list[Skipped] = []
        self.skipped_total = 0

    # -- subclass hooks -------------------------------------------------------
    def visit(self, dir_fd: int, name: str, rel: str, st: os.stat_result) -> bool:
        """Handle one entry (already lstat-ed, never followed); True to walk into it (folders only)."""
        raise NotImplementedError

    def enter(self, rel: str) -> None:
        """Called before walking into folder `rel`."""

    # -- the walk -------------------------------------------------------------
    def run(self, root: Path) -> None:
        try:
            root_fd = os.open(root, DIR_FLAGS)
        except OSError as exc:
            raise SandboxError(f"cannot read {root}: {exc.strerror}; it must be a real folder, not a symlink") from exc
        try:
            self._walk(root_fd, "", 1)
        finally:
            os.close(root_fd)

    def _walk(self, dir_fd: int, rel_dir: str, depth: int) -> None:
        for name in self._names(dir_fd, rel_dir):
            self.deadline.check()
            rel = rel_dir + name
            if len(rel.encode("utf-8", "surrogateescape")) > self.limits.path_bytes:
                raise TreeRefused("path_bytes", len(rel), self.limits.path_bytes, escaped(rel[:200]))
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                self.skip(rel, "unreadable")
                continue
            if stat.S_ISLNK(st.st_mode):
                self.symlinks += 1
                self._bound("symlinks", self.symlinks, rel)
            if not self.visit(dir_fd, name, rel, st) or not stat.S_ISDIR(st.st_mode):
                continue
            self.dirs += 1
            self._bound("dirs", self.dirs, rel)
            if depth >= self.limits.depth:
                raise TreeRefused("depth", depth + 1, self.limits.depth, escaped(rel[:200]))
            try:
                fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
            except OSError:
                self.skip(rel + "/", "unreadable")
                continue
            try:
                self.enter(rel)
                self._walk(fd, rel + "/", depth + 1)
            finally:
                os.close(fd)

    def _names(self, dir_fd: int, rel_dir: str) -> list[str]:
        """The folder's entry names, sorted; listing stops (refused) at the entry limit."""
        names = []
        with os.scandir(dir_fd) as listing:
            for entry in listing:
                self.entries += 1
                self._bound("entries", self.entries, rel_dir)
                names.append(entry.name)
                if len(names) % 256 == 0:
                    self.deadline.check()
        names.sort()
        return names

    def _bound(self, limit: str, value: int, rel: str) -> None:
        allowed = getattr(self.limits, limit)
        if value > allowed:
            raise TreeRefused(limit, value, allowed, escaped(rel[:200]))

    def skip(self, rel: str, reason: str, target: str = "") -> None:
        self.skipped_total += 1
        if len(self.skipped) < MAX_SKIPPED_LISTED:
            self.skipped.append(Skipped(path=escaped(rel), reason=reason, target=escaped(target)))
