"""Throwing away folders that may be huge, without anyone waiting for it.

A scratch workspace that a meta-agent filled with a few hundred thousand folders can take minutes to delete (on
ext4 mounted with `discard`, each freed block is trimmed), and a trial, a job slot or an evaluation response
should not wait for that. `discard(path)` renames the folder into `scratch_home()/trash/` (instant, same
filesystem) and deletes it in a daemon thread; `sweep()` restarts the deletion of whatever a process that died
(or exited) left there, and runs when a job starts. Entries are named `<pid>-<name>-<random>` after the process
deleting them, so a sweep leaves alone what a live process is still deleting.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from pathlib import Path

from mac.paths import scratch_home


def trash_dir() -> Path:
    folder = scratch_home() / "trash"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def discard(path: Path | None) -> None:
    """Make `path` disappear now and delete it in the background (in place if it cannot be moved)."""
    if path is None or not os.path.lexists(path):
        return
    path = Path(path)
    tag = f"{os.getpid()}-{path.name[:80]}-{uuid.uuid4().hex[:8]}"
    target = trash_dir() / tag
    try:
        os.rename(path, target)
    except OSError:  # another filesystem: out of the way next to where it is, then deleted there
        target = path.with_name(f".trash-{tag}")
        os.rename(path, target)
    _delete_later(target)


def sweep() -> None:
    """Delete, in the background, what processes that are gone left in the trash."""
    for entry in trash_dir().iterdir():
        owner = entry.name.split("-", 1)[0]
        if not (owner.isdigit() and _alive(int(owner))):
            _delete_later(entry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delete_later(path: Path) -> None:
    threading.Thread(target=shutil.rmtree, args=(path,), kwargs={"ignore_errors": True}, name="mac-trash",
                     daemon=True).start()
