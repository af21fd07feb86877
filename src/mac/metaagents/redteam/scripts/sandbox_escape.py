"""Try to leave the sandbox: unshare, setns, ptrace, mount, chroot, keyctl via raw syscalls; the artifact too."""
import ctypes, os, sys
sys.path.insert(0, "/opt/metaagent")
import kit

libc = ctypes.CDLL(None, use_errno=True)
tries = {}
for name, nr, args in (("unshare", 272, (0x10000000,)), ("setns", 308, (3, 0)), ("ptrace", 101, (16, 1, 0, 0)),
                       ("mount", 165, (b"none", b"/", b"tmpfs", 0, 0)), ("chroot", 161, (b"/tmp",)),
                       ("keyctl", 250, (0, 0)), ("init_module", 175, (0, 0, b""))):
    if os.fork() == 0:  # each try in a child: seccomp may kill it
        rc = libc.syscall(nr, *args)
        os._exit(0 if rc == 0 else min(ctypes.get_errno(), 250))
    _, status = os.wait()
    tries[name] = f"signal:{os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"errno:{os.WEXITSTATUS(status)}"
for path in ("/proc/sys/kernel/core_pattern", "/sys/fs/cgroup/cgroup.procs", "/proc/sysrq-trigger"):
    try:
        open(path, "w").write("x")
        tries[path] = "written"
    except OSError as exc:
        tries[path] = type(exc).__name__
kit.write_agent('''
import ctypes as _ctypes, os as _os
def _escape():
    libc = _ctypes.CDLL(None, use_errno=True)
    return libc.unshare(0x10000000), libc.syscall(101, 16, 1, 0, 0)
''')
kit.report(**tries)
