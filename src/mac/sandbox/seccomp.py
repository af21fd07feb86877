"""The seccomp deny-list of every bwrap sandbox, compiled once to BPF and handed to `bwrap --seccomp FD`.

Default ALLOW, with three kinds of denials:
- KILL the process for syscalls no artifact or agent needs and that only serve to inspect or take over other
  processes or the kernel (ptrace, process_vm_*, kexec, modules). The controller sees SIGSYS, which is evidence.
- EPERM (ENOSYS for io_uring, so libuv and friends fall back quietly) for the namespace, mount, keyring, BPF,
  perf and userfaultfd families, which programs probe legitimately and must survive being refused.
- EAFNOSUPPORT for every socket family except AF_UNIX, AF_INET and AF_INET6: netlink and packet sockets, and
  AF_VSOCK, which no network namespace isolates (it reaches the VM host and services listening on vsock).

Role "exec" (candidate code, mac.judge) also gets EPERM for creating System V IPC objects and POSIX message
queues: they outlive the process that made them (they belong to the sandbox's IPC namespace, not to a
process or a file the judge wipes), so one test's program could leave data there for the next test's. And
for prlimit64 on another process: the same uid may otherwise lower the limits of the judge's driver (pid 1).
"""

from __future__ import annotations

import errno
import functools
import os
import socket
import tempfile
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mac.kinds import SandboxRole

KILL_SYSCALLS = ("ptrace", "process_vm_readv", "process_vm_writev", "kexec_load", "kexec_file_load",
                 "init_module", "finit_module", "delete_module")
EPERM_SYSCALLS = (
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
    "fspick", "mount_setattr", "unshare", "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
    "userfaultfd", "name_to_handle_at", "open_by_handle_at", "pidfd_getfd", "kcmp", "acct", "swapon", "swapoff",
    "reboot", "settimeofday", "clock_settime", "syslog", "quotactl", "iopl", "ioperm", "uselib", "fanotify_init",
    "lookup_dcookie", "vhangup",
)
ENOSYS_SYSCALLS = ("io_uring_setup", "io_uring_enter", "io_uring_register")
ALLOWED_SOCKET_FAMILIES = (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6)
EXEC_EPERM_SYSCALLS = ("shmget", "msgget", "semget", "mq_open")
"""The only ways to create IPC objects; without an object, the other IPC calls have nothing to act on."""
VARIANTS = ("default", "exec")


def variant_for(role: SandboxRole) -> str:
    """The filter variant a sandbox role gets."""
    return "exec" if role == "exec" else "default"


@functools.lru_cache(maxsize=len(VARIANTS))
def seccomp_filter(variant: str = "default") -> tuple[bytes | None, str]:
    """(BPF program, "") or (None, why seccomp is unavailable). Built once per process and variant."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import pyseccomp as sc
    except Exception as exc:  # noqa: BLE001 - a missing libseccomp shows up as OSError, ImportError or others
        return None, f"pyseccomp/libseccomp unavailable ({exc}); install libseccomp2 and `pip install pyseccomp`"
    try:
        flt = sc.SyscallFilter(defaction=sc.ALLOW)
        _add_all(sc, flt, sc.KILL_PROCESS, KILL_SYSCALLS)
        _add_all(sc, flt, sc.ERRNO(errno.EPERM), EPERM_SYSCALLS)
        _add_all(sc, flt, sc.ERRNO(errno.ENOSYS), ENOSYS_SYSCALLS)
        if variant == "exec":
            _add_all(sc, flt, sc.ERRNO(errno.EPERM), EXEC_EPERM_SYSCALLS)
            flt.add_rule(sc.ERRNO(errno.EPERM), "prlimit64", sc.Arg(0, sc.NE, 0))  # setrlimit() passes 0
        _deny_socket_families(sc, flt)
        with tempfile.TemporaryFile() as fh:
            flt.export_bpf(fh)
            fh.seek(0)
            return fh.read(), ""
    except Exception as exc:  # noqa: BLE001 - libseccomp reports failures as bare exceptions
        return None, f"cannot build the seccomp filter: {exc}"


def _add_all(sc, flt, action, names: tuple[str, ...]) -> None:
    for name in names:
        try:
            flt.add_rule(action, name)
        except (ValueError, RuntimeError, OSError):
            pass  # a syscall this architecture or libseccomp does not know cannot be called either


def _deny_socket_families(sc, flt) -> None:
    refuse = sc.ERRNO(errno.EAFNOSUPPORT)
    highest = max(ALLOWED_SOCKET_FAMILIES)
    for family in range(highest):
        if family not in ALLOWED_SOCKET_FAMILIES:
            flt.add_rule(refuse, "socket", sc.Arg(0, sc.EQ, family))
    flt.add_rule(refuse, "socket", sc.Arg(0, sc.GT, highest))


def filter_fd(variant: str = "default") -> int | None:
    """A readable fd holding the BPF program (a pipe, already written and closed on the write side), or None."""
    program, _ = seccomp_filter(variant)
    if program is None:
        return None
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, program)  # a few KiB: fits the pipe buffer, never blocks
    finally:
        os.close(write_end)
    return read_end
