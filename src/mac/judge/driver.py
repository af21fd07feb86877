"""The judge's in-sandbox driver: runs one candidate program on one test at a time, each in a fresh process.

    python -I /workspace/driver.py        in an "exec" sandbox, as the pid 1 of its pid namespace

Stdlib only. It is copied next to the candidate's code (solution.py) with harness.py (what a test's process
runs), and runs with the sandbox's privileges, so the controller trusts nothing it reports beyond the framing.
Frames on stdin/stdout are a 1-byte kind, a 4-byte big-endian length and the payload:

    controller -> driver   C  config JSON: mode ("stdio"|"call"), fn_name, preamble,
                              case_timeout, file_bytes (RLIMIT_FSIZE of a test), send_bytes (most of
                              its stdout or report sent back), wipe (folders to empty between tests)
                           T  one test's input;  Q  quit
    driver -> controller   H  after C: {"ok": true} or {"ok": false, "error": "SyntaxError"} (compiled?)
                           O  the test's stdout (its first send_bytes)
                           R  the harness's report (JSON written on fd 3, see harness.py)
                           E  ends a test: {"exit", "signal", "timed_out", "time", "stdout_bytes",
                              "report_bytes", "restart"}

Per test: the input is spliced from the controller's pipe into a sealed memfd, so it never enters this
process's memory (a process forked later cannot find an earlier test's input in what it inherits); a worker is
forked from this process, which has never run candidate code; it reads the memfd as stdin and writes stdout
and its report into memfds of its own. When it exits, or at the time limit, every other process of the
sandbox is killed (kill(-1) from pid 1 reaches all of them, however they detached) and reaped, the writable
folders are emptied, and the two memfds are spliced back to the controller. Any failure to clean up ends the
driver after the test's E frame ("restart": true): the controller starts a fresh sandbox for the next test.
"""

import ctypes
import fcntl
import gc
import importlib.util
import json
import os
import select
import signal
import struct
import sys
import time

HEADER = struct.Struct("!cI")
PR_SET_DUMPABLE = 4
SEALS = fcntl.F_SEAL_SEAL | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE


def read_exact(fd, size):
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_frame_header():
    kind, size = HEADER.unpack(read_exact(0, HEADER.size))
    return kind, size


def send(kind, payload):
    data = HEADER.pack(kind, len(payload)) + payload
    while data:
        data = data[os.write(1, data):]


def send_json(kind, obj):
    send(kind, json.dumps(obj).encode())


def send_file(kind, fd, size):
    """Splice `size` bytes of a memfd to the controller (its bytes never pass through this process)."""
    os.write(1, HEADER.pack(kind, size))
    offset = 0
    while offset < size:
        moved = os.splice(fd, 1, size - offset, offset_src=offset)
        if moved == 0:
            raise EOFError
        offset += moved


def input_memfd(size):
    """The next `size` bytes of stdin, spliced into a sealed memfd positioned at its start."""
    fd = os.memfd_create("stdin", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    done = 0
    while done < size:
        moved = os.splice(0, fd, size - done)
        if moved == 0:
            raise EOFError
        done += moved
    os.lseek(fd, 0, os.SEEK_SET)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, SEALS)
    return fd


def make_undumpable():
    """Same-uid processes may otherwise open /proc/<pid>/mem and /proc/<pid>/fd of this one (no Yama here)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


HERE = os.path.dirname(os.path.abspath(__file__))


def load_harness():
    path = os.path.join(HERE, "harness.py")
    spec = importlib.util.spec_from_file_location("mac_judge_harness", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kill_all(worker, as_init):
    """SIGKILL every process but this one. From a namespace's init, kill(-1) reaches every other process in it."""
    try:
        if as_init:
            os.kill(-1, signal.SIGKILL)
        else:  # debugging backend: only the worker's own session can be reached safely
            os.killpg(worker, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def reap(worker, as_init):
    """Wait for every child (orphans are re-parented to pid 1); returns the worker's wait status."""
    status = None
    while True:
        try:
            pid, code = os.waitpid(-1, 0)
        except ChildProcessError:
            return status
        if pid == worker:
            status = code
        kill_all(worker, as_init)  # a process that forked while we reaped


def empty_folder(folder, mode):
    """Remove everything in `folder` (iteratively: a program may nest folders deeper than the recursion limit)."""
    os.chmod(folder, mode)
    stack, folders = [folder], []
    while stack:
        current = stack.pop()
        for entry in os.scandir(current):
            if entry.is_dir(follow_symlinks=False):
                os.chmod(entry.path, 0o700)  # a program may have taken its own permissions away
                stack.append(entry.path)
                folders.append(entry.path)
            else:
                os.unlink(entry.path)
    for path in reversed(folders):
        os.rmdir(path)


def run_test(config, harness, program, size, modes):
    stdin_fd = input_memfd(size)
    stdout_fd = os.memfd_create("stdout", os.MFD_CLOEXEC)
    report_fd = os.memfd_create("report", os.MFD_CLOEXEC)
    as_init = os.getpid() == 1
    started = time.monotonic()
    worker = os.fork()
    if worker == 0:
        try:
            harness.run(config, program, stdin_fd, stdout_fd, report_fd)
        finally:
            os._exit(70)  # never back into this loop
    os.close(stdin_fd)
    pidfd = os.pidfd_open(worker)
    exited = bool(select.select([pidfd], [], [], config["case_timeout"])[0])
    elapsed = time.monotonic() - started
    os.close(pidfd)
    kill_all(worker, as_init)
    status = reap(worker, as_init)
    restart = False
    if as_init:
        try:
            for folder, mode in modes.items():
                empty_folder(folder, mode)
        except OSError:
            restart = True
    sizes = [os.fstat(fd).st_size for fd in (stdout_fd, report_fd)]
    send_file(b"O", stdout_fd, min(sizes[0], config["send_bytes"]))
    send_file(b"R", report_fd, min(sizes[1], config["send_bytes"]))
    os.close(stdout_fd)
    os.close(report_fd)
    send_json(b"E", {
        "exit": os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if status is not None and os.WIFSIGNALED(status) else None,
        "timed_out": not exited, "time": round(elapsed, 4), "stdout_bytes": sizes[0],
        "report_bytes": sizes[1], "restart": restart})
    return not restart


def compile_program(config, harness):
    with open(os.path.join(HERE, "solution.py"), "rb") as fh:
        source = fh.read().decode("utf-8", "surrogatepass")
    preamble = compile(config["preamble"], "<preamble>", "exec", dont_inherit=True)
    for _ in range(2):  # imports the preamble's modules (the second run warms what the first one set up lazily)
        exec(preamble, {"__name__": "mac_judge_warmup"})
    try:
        code = compile(source, "solution.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError) as exc:
        send_json(b"H", {"ok": False, "error": type(exc).__name__})
        return None
    send_json(b"H", {"ok": True})
    gc.freeze()  # a worker's garbage collections then leave the inherited objects (and their pages) alone
    return harness.Program(source=source, code=code, preamble=preamble)


def main():
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # as pid 1, signals without a handler are dropped
    make_undumpable()
    harness = load_harness()
    kind, size = read_frame_header()
    if kind != b"C":
        raise SystemExit("mac-judge-driver: expected a config frame")
    config = json.loads(read_exact(0, size))
    modes = {folder: os.stat(folder).st_mode & 0o7777 for folder in config["wipe"]}
    program = compile_program(config, harness)
    while True:
        kind, size = read_frame_header()
        if kind == b"Q":
            return
        if kind != b"T" or program is None:
            raise SystemExit("mac-judge-driver: unexpected frame")
        if not run_test(config, harness, program, size, modes):
            return


if __name__ == "__main__":
    try:
        main()
    except (EOFError, BrokenPipeError):
        pass  # the controller went away: nothing left to report to
    sys.stdout.flush()
    os._exit(0)
