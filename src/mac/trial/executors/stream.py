"""A trial folder streamed from a worker to the controller, file by file, each checked by its sha256.

    sender = FolderSender(worker_trial_dir)                  # on the worker
    chunks, more = sender.take(max_bytes=8 << 20)           # what changed since the last take (bounded)
    receiver = FolderReceiver(controller_trial_dir)          # on the controller
    written = receiver.apply(chunks)                        # verified and written atomically: the paths done

A chunk is a dict: `path` (relative, `/`-separated), `base` (bytes of the receiver's current file the new
file starts with: 0 for a whole file, the old size for a log that grew), `offset` (where `data` goes in the
new file), `data`, `size` (the new file's size), `sha256` (of the whole new file), `mtime_ns`. The receiver
builds the new file as a hidden temporary next to the target, checks its size and sha256, sets its mtime (the
resume reads mtimes: mac.trial.resume.dev_time_spent) and renames it into place; a mismatch raises StoreError.
Files that only grew (`*.jsonl` logs) send their new tail; others are sent whole. Only regular files are sent,
never through a symlink; dot-files (atomic writes in progress) are skipped, and so is any path in `skip`.
The workspace, which untrusted code writes, is never walked here: the worker copies it under the snapshot rules
(mac.sandbox.snapshot) and sends that copy with `add_tree(copy, prefix="workspace")`.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterable

from mac.errors import StoreError

CHUNK_BYTES = 4 << 20
"""Largest `data` of one chunk."""


@dataclass
class _Sent:
    key: tuple[int, int, int]
    """(inode, size, mtime_ns) of what was last queued."""
    size: int
    hasher: Any = field(repr=False)


class FolderSender:
    """Worker side: walks `root` and queues what changed since the last walk."""

    def __init__(self, root: Path, skip: Iterable[str] = ()):
        self.root = Path(root)
        self.skip = set(skip)
        self._sent: dict[str, _Sent] = {}
        self._queue: list[dict[str, Any]] = []

    def scan(self, *, queue: bool = True) -> None:
        """Queue every regular file of `root` that changed (paths in `skip` and dot-files left out). With
        `queue=False`, only note them as sent (the receiver has these files already)."""
        for rel, full in _regular_files(self.root, self.skip):
            self._queue_file(rel, full)
        if not queue:
            self._queue.clear()

    def add_tree(self, tree: Path, prefix: str) -> None:
        """Queue the files of `tree` (a trusted copy) as `prefix/...`, compared by content, not by mtime."""
        for rel, full in _regular_files(Path(tree), set()):
            self._queue_file(f"{prefix}/{rel}", full, by_content=True)

    def take(self, max_bytes: int = 8 << 20) -> tuple[list[dict[str, Any]], bool]:
        """Chunks queued so far, up to about `max_bytes` of data; and whether more are queued."""
        out: list[dict[str, Any]] = []
        total = 0
        while self._queue and (not out or total + len(self._queue[0]["data"]) <= max_bytes):
            chunk = self._queue.pop(0)
            out.append(chunk)
            total += len(chunk["data"])
        return out, bool(self._queue)

    def _queue_file(self, rel: str, full: Path, by_content: bool = False) -> None:
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return  # gone or a symlink now
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode):
                return
            before = self._sent.get(rel)
            key = (st.st_ino, st.st_size, st.st_mtime_ns)
            if before is not None and before.key == key and not by_content:
                return
            grew = (before is not None and not by_content and rel.endswith(".jsonl") and before.key[0] == st.st_ino
                    and st.st_size > before.size)
            base = before.size if grew and before is not None else 0
            handle.seek(base)
            data = handle.read(st.st_size - base)
        hasher = before.hasher.copy() if grew and before is not None else hashlib.sha256()
        hasher.update(data)
        if by_content and before is not None and before.hasher.hexdigest() == hasher.hexdigest():
            return
        size = base + len(data)
        self._sent[rel] = _Sent((st.st_ino, size, st.st_mtime_ns), size, hasher)
        self._queue = [c for c in self._queue if c["path"] != rel or grew]  # a newer whole file replaces older ones
        digest = hasher.hexdigest()
        for start in range(0, max(len(data), 1), CHUNK_BYTES):
            self._queue.append({"path": rel, "base": base, "offset": base + start,
                                "data": data[start:start + CHUNK_BYTES], "size": size, "sha256": digest,
                                "mtime_ns": st.st_mtime_ns})


class FolderReceiver:
    """Controller side: applies chunks to `root` (see the module docstring)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._partial: dict[str, Path] = {}

    def apply(self, chunks: Iterable[dict[str, Any]]) -> list[str]:
        done = []
        for chunk in chunks:
            if self._apply_one(chunk):
                done.append(chunk["path"])
        return done

    def _apply_one(self, chunk: dict[str, Any]) -> bool:
        rel = _safe_rel(chunk["path"])
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.incoming"
        if chunk["offset"] == chunk["base"]:  # the first chunk of a new version
            self._start(target, tmp, chunk["base"])
        elif self._partial.get(rel) != tmp:
            raise StoreError(f"stream of {rel}: a chunk at {chunk['offset']} arrived without its start")
        with open(tmp, "r+b") as handle:
            handle.seek(chunk["offset"])
            handle.write(chunk["data"])
        self._partial[rel] = tmp
        if chunk["offset"] + len(chunk["data"]) < chunk["size"]:
            return False
        del self._partial[rel]
        digest = _sha256(tmp)
        if os.path.getsize(tmp) != chunk["size"] or digest != chunk["sha256"]:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"stream of {rel}: sha256 {digest[:12]} does not match the worker's "
                             f"{chunk['sha256'][:12]}: the copy is damaged")
        os.utime(tmp, ns=(chunk["mtime_ns"], chunk["mtime_ns"]))
        os.replace(tmp, target)
        return True

    @staticmethod
    def _start(target: Path, tmp: Path, base: int) -> None:
        with open(tmp, "wb") as out:
            if base:
                try:
                    fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                except OSError:
                    raise StoreError(f"stream of {target.name}: it grew, but this copy has none") from None
                with os.fdopen(fd, "rb") as current:
                    head = current.read(base)
                if len(head) != base:
                    raise StoreError(f"stream of {target.name}: this copy is shorter than what the worker extends")
                out.write(head)


def _regular_files(root: Path, skip: set[str]) -> Iterable[tuple[str, Path]]:
    for folder, dirs, files in os.walk(root, followlinks=False):
        rel_dir = os.path.relpath(folder, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and _join(rel_dir, d) not in skip)
        for name in sorted(files):
            rel = _join(rel_dir, name)
            if not name.startswith(".") and rel not in skip:
                yield rel, Path(folder) / name


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _safe_rel(rel: str) -> str:
    parts = rel.split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in rel:
        raise StoreError(f"stream: refused path {rel!r}")
    return rel


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
