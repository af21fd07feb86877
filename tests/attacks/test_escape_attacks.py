"""Escape attempts: new namespaces (unshare, nested user namespaces), mount, chroot, becoming root, keyrings,
BPF, io_uring, ptrace and reading another process's memory. Refusals are quiet (EPERM/ENOSYS) where programs
probe legitimately; ptrace and process_vm_* kill the process with SIGSYS, which the controller records."""

from __future__ import annotations

from attackkit import assert_controller_works, report_of

REFUSED = r"""
import ctypes, json, os, subprocess
libc = ctypes.CDLL(None, use_errno=True)
out = {}

def call(name, *args):
    rc = getattr(libc, name)(*args)
    out[name + str(args[:1])] = 0 if rc == 0 else ctypes.get_errno()

call("unshare", 0x10000000)          # CLONE_NEWUSER
call("unshare", 0x00020000)          # CLONE_NEWNS
call("unshare", 0x40000000)          # CLONE_NEWNET
call("mount", b"none", b"/tmp", b"tmpfs", 0, None)
call("chroot", b"/tmp")
call("setuid", 0)
call("syscall", 321, 0, 0, 0)        # bpf
call("syscall", 250, 0, 0, 0, 0)     # keyctl
call("syscall", 425, 8, 0)           # io_uring_setup
call("syscall", 298, 0, 0, -1, -1, 0)  # perf_event_open
nested = subprocess.run(["unshare", "-U", "-r", "true"], capture_output=True, text=True)
out["unshare_cmd"] = [nested.returncode, nested.stderr.strip()[-80:]]
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
out["caps"] = [status["CapEff"].strip(), status["CapBnd"].strip()]
out["no_new_privs"], out["seccomp"] = status["NoNewPrivs"].strip(), status["Seccomp"].strip()
print(json.dumps(out))
"""


def test_namespaces_mounts_and_privileges_are_refused(attack, bwrap_backend):
    out = report_of(attack(REFUSED))
    for name, value in out.items():
        if name.startswith(("unshare(", "mount", "chroot", "syscall(321", "syscall(250", "syscall(298")):
            assert value == 1, (name, value)  # EPERM
    assert out["setuid(0,)"] == 22  # EINVAL: uid 0 does not even exist in the sandbox's user namespace
    assert out["syscall(425,)"] == 38  # io_uring: ENOSYS, so runtimes fall back quietly
    assert out["unshare_cmd"][0] != 0
    assert out["caps"] == ["0000000000000000", "0000000000000000"]
    assert out["no_new_privs"] == "1" and out["seccomp"] == "2"
    assert_controller_works(bwrap_backend)


def test_ptrace_is_killed_and_recorded(attack, bwrap_backend, evidence):
    before = len(evidence.records("seccomp_kill"))
    script = r"""
    import ctypes, os, time
    child = os.fork()
    if child == 0:
        time.sleep(30)
        os._exit(0)
    ctypes.CDLL(None).ptrace(16, child, 0, 0)   # PTRACE_ATTACH to read the sibling's memory
    print("ptrace returned")
    """
    result = attack(script)
    assert result.returncode == -31 and result.killed_by == "signal:31"
    assert "ptrace returned" not in result.stdout
    assert [e["kind"] for e in result.events] == ["seccomp_kill"]
    assert len(evidence.records("seccomp_kill")) == before + 1
    assert evidence.records("seccomp_kill")[-1]["source"] == "sandbox"

    vm_read = attack("import ctypes, os\nctypes.CDLL(None).process_vm_readv(os.getppid(), 0, 0, 0, 0, 0)\nprint('read')")
    assert vm_read.returncode == -31 and "read" not in vm_read.stdout
    assert_controller_works(bwrap_backend)
