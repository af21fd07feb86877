"""Resource attacks: fork bombs, memory hogs, filling /tmp, /dev/shm, a writable workspace and /mac/out, huge
files, output floods, commands that never return, and processes that try to outlive the run. Each is contained,
recorded, and leaves nothing of the slot's uid behind; the controller keeps working."""

from __future__ import annotations

import os
import time

from attackkit import assert_controller_works, report_of
from mac.config import SandboxLimits
from mac.sandbox.uids import processes_of

FILL = r"""
import json, os, sys
out = {}
for folder in sys.argv[1:]:
    written, error = 0, None
    try:
        with open(os.path.join(folder, "fill"), "wb") as fh:
            while written < (4 << 30):
                fh.write(b"x" * (1 << 20)); fh.flush(); written += 1 << 20
    except OSError as exc:
        error = exc.errno
    out[folder] = [written >> 20, error]
    try:
        os.unlink(os.path.join(folder, "fill"))
    except OSError:
        pass
print(json.dumps(out))
"""


def test_fork_bomb_is_contained(attack, bwrap_backend):
    script = r"""
    import json, os, time
    n, error = 0, None
    try:
        while n < 100000:
            if os.fork() == 0:
                time.sleep(60); os._exit(0)
            n += 1
    except OSError as exc:
        error = exc.errno
    print(json.dumps({"children": n, "error": error}))
    """
    limits = SandboxLimits(pids=48, wall_sec=60)
    result = attack(script, limits=limits)
    out = report_of(result)
    assert out["error"] == 11 and out["children"] < 48  # EAGAIN
    assert processes_of(result.uid) == []
    if bwrap_backend.cgroup_support.version is not None:
        assert any(e["kind"] == "pids_limit" for e in result.events)
    shell = attack("import os; os.execvp('bash', ['bash', '-c', ':(){ :|:& };:; sleep 2'])",
                   limits=SandboxLimits(pids=48, wall_sec=3))
    assert shell.wall_sec < 10 and processes_of(shell.uid) == []
    assert_controller_works(bwrap_backend)


def test_memory_hog_is_killed(attack, bwrap_backend):
    result = attack("x = []\nwhile True: x.append(bytearray(16 << 20))", limits=SandboxLimits(memory_mb=192))
    if "memory" in bwrap_backend.cgroup_support.controllers:
        assert result.killed_by == "memory" and result.returncode == -9
        assert any(e["kind"] == "memory_limit" for e in result.events)
    else:  # RLIMIT_AS: a MemoryError inside, no kill
        assert "MemoryError" in result.stderr
    assert_controller_works(bwrap_backend)


def test_tmpfs_fills_stop_at_their_size(attack, bwrap_backend):
    out = report_of(attack(FILL, args=["/tmp", "/dev/shm"], limits=SandboxLimits(tmp_mb=24, shm_mb=12, memory_mb=512)))
    assert out["/tmp"][1] == 28 and 20 <= out["/tmp"][0] <= 24  # ENOSPC
    assert out["/dev/shm"][1] == 28 and 8 <= out["/dev/shm"][0] <= 12
    assert_controller_works(bwrap_backend)


def test_dev_cannot_be_filled(attack, bwrap_backend):
    """bwrap's /dev is a tmpfs with no size of its own: it is read-only, so nothing can be stored there (the
    device nodes in it still work)."""
    out = report_of(attack(FILL + "open('/dev/null', 'w').write('still a device')\n", args=["/dev"],
                           limits=SandboxLimits(memory_mb=512)))
    assert out["/dev"] == [0, 30]  # EROFS at the first byte
    assert_controller_works(bwrap_backend)


def test_one_huge_file_stops_at_the_file_size_limit(attack, bwrap_backend, box):
    (box / "out").mkdir()
    out = report_of(attack(FILL, args=["/mac/out"], outputs=box / "out", limits=SandboxLimits(file_size_mb=8)))
    assert out["/mac/out"] == [8, 27]  # EFBIG
    assert_controller_works(bwrap_backend)


def test_filling_a_writable_workspace_and_outputs_is_stopped(attack, bwrap_backend, box):
    script = r"""
    import os, sys
    i = 0
    while True:
        for folder in ("/workspace", "/mac/out"):
            with open(f"{folder}/junk-{i}", "wb") as fh:
                fh.write(b"x" * (2 << 20))
        i += 1
    """
    ws, out = box / "dev-ws", box / "out"
    ws.mkdir()
    out.mkdir()
    limits = SandboxLimits(disk_mb=48, file_size_mb=4, wall_sec=120)
    started = time.monotonic()
    result = attack(script, workspace=ws, workspace_writable=True, role="dev", outputs=out, limits=limits)
    assert result.killed_by == "disk" and time.monotonic() - started < 60
    [event] = [e for e in result.events if e["kind"] == "disk_limit"]
    assert event["grew_bytes"] > 48 << 20
    written = sum(f.stat().st_size for folder in (ws, out) for f in folder.iterdir())
    assert written < 8 << 30  # bounded: the allowance plus what one check interval let through
    assert_controller_works(bwrap_backend)


def test_output_flood_is_capped(attack, bwrap_backend):
    script = "import os\nchunk = b'x' * (1 << 20)\nfor _ in range(200): os.write(1, chunk); os.write(2, chunk)"
    result = attack(script, limits=SandboxLimits(output_bytes=64 << 10))
    assert result.returncode == 0
    assert len(result.stdout) == len(result.stderr) == 64 << 10
    assert result.stdout_truncated and result.stderr_truncated
    dropped = {e["stream"]: e["dropped_bytes"] for e in result.events if e["kind"] == "output_truncated"}
    assert dropped == {"stdout": (200 << 20) - (64 << 10), "stderr": (200 << 20) - (64 << 10)}
    assert_controller_works(bwrap_backend)


def test_a_command_that_never_returns_is_killed_at_the_wall_clock(attack, bwrap_backend):
    script = "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP): signal.signal(s, signal.SIG_IGN)\nwhile True: pass"
    started = time.monotonic()
    result = attack(script, limits=SandboxLimits(wall_sec=1.5))
    assert result.timed_out and result.killed_by == "wall" and time.monotonic() - started < 6
    assert processes_of(result.uid) == []
    assert_controller_works(bwrap_backend)


def test_background_processes_do_not_outlive_the_run(attack, bwrap_backend, box):
    script = r"""
    import os, subprocess, time
    if os.fork() == 0:              # double fork + setsid: a daemon
        os.setsid()
        if os.fork() == 0:
            time.sleep(2)
            open("/mac/out/daemon-was-here", "w").write("x")
            os._exit(0)
        os._exit(0)
    subprocess.Popen(["nohup", "sh", "-c", "sleep 2; echo x > /mac/out/nohup-was-here"], start_new_session=True)
    subprocess.Popen("sleep 100 &", shell=True)
    print("{}")
    """
    (box / "out").mkdir()
    result = attack(script, outputs=box / "out")
    assert result.returncode == 0 and not result.timed_out
    assert processes_of(result.uid) == []
    time.sleep(2.5)
    assert os.listdir(box / "out") == []
    assert_controller_works(bwrap_backend)
