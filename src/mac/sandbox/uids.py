"""One unprivileged host uid per concurrent sandbox (a slot), so rlimits, file ownership and SO_PEERCRED are
per sandbox. Slots are claimed with an flock on a file per uid, so two controllers on one host never share one.

The range is `MAC_SANDBOX_UIDS` ("10001-10099" by default); uids that belong to a real account are skipped.
When the controller is not root there is no pool: sandboxes run as the current user (`shared_uid`).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import random
import re
from dataclasses import dataclass
from pathlib import Path

from mac.errors import ConfigError, SandboxError

DEFAULT_RANGE = (10001, 10099)
LOCK_DIR = Path("/run/lock/mac-sandbox-slots")


@dataclass
class Slot:
    uid: int
    gid: int
    dedicated: bool
    """False when the sandbox runs as the controller's own user (not root)."""
    exclusive: bool = True
    """False for the uid every task environment shares (their image files are owned by it): never swept by uid,
    no RLIMIT_NPROC (pid namespaces and the pids cgroup keep environments apart)."""
    _lock_fd: int | None = None

    @property
    def own_uid(self) -> bool:
        """The uid belongs to this sandbox alone: safe to sweep and to count processes by."""
        return self.dedicated and self.exclusive

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None


def uid_range() -> tuple[int, int]:
    text = os.environ.get("MAC_SANDBOX_UIDS", "")
    if not text:
        return DEFAULT_RANGE
    try:
        first, last = (int(x) for x in text.split("-"))
    except ValueError:
        raise ConfigError(f"MAC_SANDBOX_UIDS={text!r}: use FIRST-LAST, e.g. 10001-10099") from None
    if not 1000 <= first <= last < 2**31:
        raise ConfigError(f"MAC_SANDBOX_UIDS={text!r}: need 1000 <= FIRST <= LAST")
    return first, last


def _is_account(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


def acquire_slot() -> Slot:
    """A free slot (root), or the current user (not root). Raises SandboxError when every slot is busy."""
    if os.geteuid() != 0:
        return Slot(os.getuid(), os.getgid(), dedicated=False)
    first, last = uid_range()
    LOCK_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    candidates = list(range(first, last + 1))
    start = random.randrange(len(candidates))  # spread reuse; a just-released uid is not handed out again at once
    for uid in candidates[start:] + candidates[:start]:
        if _is_account(uid):
            continue
        fd = os.open(LOCK_DIR / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return Slot(uid, uid, dedicated=True, _lock_fd=fd)
    raise SandboxError(f"all {last - first + 1} sandbox uids ({first}-{last}) are busy: run fewer sandboxes at once "
                       "or widen MAC_SANDBOX_UIDS")


DEFAULT_ENV_UID = 10000


def environment_uid() -> int | None:
    """The host uid task environments run as and own their image files by (`MAC_ENV_UID`, 10000 by default);
    None when the controller is not root (environments then run as the current user)."""
    if os.geteuid() != 0:
        return None
    text = os.environ.get("MAC_ENV_UID", str(DEFAULT_ENV_UID))
    if not (text.isascii() and text.isdigit()) or not 1000 <= int(text) < 2**31:
        raise ConfigError(f"MAC_ENV_UID={text!r}: use a uid >= 1000 that no account and no sandbox slot uses")
    return int(text)


def environment_slot() -> Slot:
    """The identity of a task environment's sandbox (see `environment_uid`)."""
    uid = environment_uid()
    if uid is None:
        return Slot(os.getuid(), os.getgid(), dedicated=False)
    return Slot(uid, uid, dedicated=True, exclusive=False)


def processes_of(uid: int) -> list[int]:
    """Live pids whose real uid is `uid` (a leak check: nothing of a slot may outlive its sandbox).

    Zombies are left out: the sandbox's pid 1 exits just after the outer bwrap and is reaped by the host's init.
    """
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as fh:
                status = fh.read()
        except OSError:
            continue  # exited meanwhile
        match = re.search(rb"^Uid:\s+(\d+)", status, re.M)
        zombie = re.search(rb"^State:\s+Z", status, re.M)
        if match and int(match.group(1)) == uid and not zombie:
            found.append(int(entry.name))
    return found
