"""Host-side preparation of one sandbox launch: ownership of writable binds, relay socket access, and the
child's pre-exec step (join cgroups, lower rlimits, drop to the slot uid).

The pre-exec step runs between fork and exec in a possibly multi-threaded controller, so it only calls a few
syscalls on values computed beforehand (no imports, no locks, no allocation of note).
"""

from __future__ import annotations

import os
import resource
import stat
from pathlib import Path
from collections.abc import Callable

from mac.config import SandboxLimits
from mac.sandbox.uids import Slot
from mac.sandbox.walk import LIVE_LIMITS, BoundedWalk


class _Chown(BoundedWalk):
    """Gives every entry to (uid, gid), walking by directory fds without following symlinks; files with several
    hard links are left alone (one could be a link to a file elsewhere on this filesystem) and counted."""

    def __init__(self, uid: int, gid: int):
        super().__init__(LIVE_LIMITS)
        self.uid, self.gid, self.hardlinks = uid, gid, 0

    def visit(self, dir_fd: int, name: str, rel: str, st: os.stat_result) -> bool:
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            self.hardlinks += 1
            return False
        if st.st_uid != self.uid or st.st_gid != self.gid:
            try:
                os.chown(name, self.uid, self.gid, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                pass
        return stat.S_ISDIR(st.st_mode)


def chown_tree(root: Path, uid: int, gid: int) -> int:
    """Give a writable workspace to the slot uid (a bounded walk: TreeRefused past LIVE_LIMITS).
    Returns how many files were skipped for having several hard links."""
    os.chown(root, uid, gid, follow_symlinks=False)
    walk = _Chown(uid, gid)
    walk.run(root)
    return walk.hardlinks


def unreachable_for(path: Path, uid: int) -> Path | None:
    """The first folder on the way to `path` that `uid` cannot traverse (bwrap opens bind sources as that uid)."""
    for folder in [*reversed(Path(path).parents), Path(path)]:
        st = os.stat(folder)
        if not stat.S_ISDIR(st.st_mode):
            continue  # a file bind: its folders are what must be traversable
        if not (st.st_mode & stat.S_IXOTH or (st.st_uid == uid and st.st_mode & stat.S_IXUSR)):
            return folder
    return None


def own_folder(folder: Path, uid: int, gid: int) -> None:
    """A writable bind folder (e.g. /mac/out) owned by the slot and private to it."""
    os.chown(folder, uid, gid, follow_symlinks=False)
    os.chmod(folder, 0o700)


def grant_socket(sock: Path, uid: int) -> None:
    """Let `uid` connect to `sock` (connect needs write permission) and traverse its folder (bound in)."""
    st = os.stat(sock)
    if st.st_uid != uid and not st.st_mode & stat.S_IWOTH:
        os.chown(sock, uid, -1)
        os.chmod(sock, stat.S_IMODE(st.st_mode) | stat.S_IRUSR | stat.S_IWUSR)
    folder = sock.parent
    fst = os.stat(folder)
    if fst.st_uid != uid and not fst.st_mode & stat.S_IXOTH:
        os.chmod(folder, stat.S_IMODE(fst.st_mode) | stat.S_IXOTH)


def rlimits(limits: SandboxLimits, slot: Slot, has_memcg: bool, has_pids_cgroup: bool = False) -> list[tuple[int, int]]:
    """(resource, value) pairs to set as soft = hard; never above the current hard limit (no CAP_SYS_RESOURCE)."""
    wanted = [(resource.RLIMIT_FSIZE, limits.file_size_mb << 20), (resource.RLIMIT_NOFILE, limits.nofile),
              (resource.RLIMIT_CORE, 0)]
    if slot.own_uid:  # counted per host uid: only meaningful when the uid is the sandbox's alone
        # with a pids cgroup, leave it the first word: the kernel counts its denials (evidence), not NPROC's
        wanted.append((resource.RLIMIT_NPROC, limits.pids + (16 if has_pids_cgroup else 0)))
    if not has_memcg:
        wanted.append((resource.RLIMIT_AS, limits.memory_mb << 20))
    result = []
    for res, value in wanted:
        _soft, hard = resource.getrlimit(res)
        result.append((res, value if hard == resource.RLIM_INFINITY else min(value, hard)))
    return result


def preexec(join_fds: list[int], limits: list[tuple[int, int]], slot: Slot) -> Callable[[], None]:
    """The child's last steps before exec'ing bwrap, in the only order that works: cgroups need root."""
    uid, gid, dedicated = slot.uid, slot.gid, slot.dedicated
    setrlimit, write, setgroups, setresgid, setresuid = (resource.setrlimit, os.write, os.setgroups,
                                                         os.setresgid, os.setresuid)

    def run() -> None:
        for fd in join_fds:
            write(fd, b"0")
        for res, value in limits:
            setrlimit(res, (value, value))
        if dedicated:
            setgroups([])
            setresgid(gid, gid, gid)
            setresuid(uid, uid, uid)

    return run
