"""Attacks on the code judge (mac.judge): candidate programs that try to find expected outputs, lie about their
results, reach other tests or problems, or break the judge. Each attack fails, and the judge keeps working.

Most attacking programs print what they found; the test's expected output is what they print when they found
nothing ("nothing"), so a passing test proves the probes ran and came back empty, and a test whose expected
output is a fresh secret shows the program cannot produce it.
"""

from __future__ import annotations

import asyncio
import secrets
import textwrap

from judgekit import host_processes_with, judge, statuses
from mac.judge import Judge, JudgeLimits, TestCase
from mac.sandbox.base import SandboxSpec
from mac.sandbox.bwrap import BwrapBackend

MEMORY_SCAN = r"""
import gc, re, sys
PATTERN = re.compile(rb"(?:EXPECTED|INPUT)-[0-9a-f]{32}")
mine = input().strip().encode()
found = set()
frame = sys._getframe()
while frame is not None:                                   # every frame's locals and globals
    for scope in (frame.f_locals, frame.f_globals):
        for value in list(scope.values()):
            if isinstance(value, (str, bytes)):
                found.update(PATTERN.findall(value.encode() if isinstance(value, str) else value))
    frame = frame.f_back
for obj in gc.get_objects():                               # every container on the gc heap
    for item in (obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple, set)) else ()):
        if isinstance(item, str):
            found.update(PATTERN.findall(item.encode("utf-8", "replace")))
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:   # all of this process's memory
    for line in maps:
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        if "r" not in line.split()[1]:
            continue
        try:
            mem.seek(start)
            found.update(PATTERN.findall(mem.read(end - start)))
        except (OSError, OverflowError, ValueError):
            pass
found.discard(mine)
print("found " + " ".join(sorted(f.decode() for f in found)) if found else "nothing")
"""


def marker(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(16)}"


def test_frames_gc_heap_and_memory_hold_no_expected_output_nor_other_tests(bwrap_backend):
    inputs = [marker("INPUT") for _ in range(3)]
    secret = marker("EXPECTED")
    tests = [(inputs[0], "nothing"), (inputs[1], "nothing"), (inputs[2], secret)]
    verdict = judge(bwrap_backend, MEMORY_SCAN, tests, stop=False)
    # tests 1-2 pass: the scan found neither an expected output nor an earlier test's input;
    # test 3 fails: the program cannot print what is nowhere it can look
    assert statuses(verdict) == ["passed", "passed", "wrong_answer"]


def test_results_that_lie_about_themselves_do_not_pass(bwrap_backend):
    code = """
    class Liar(int):
        def __eq__(self, other): return True
        def __ne__(self, other): return False
        __hash__ = int.__hash__
        def __str__(self): return "7"
        __repr__ = __str__
    class LyingList(list):
        def __iter__(self): return iter([7])
        def __len__(self): return 1
        def __eq__(self, other): return True
    class LyingStr(str):
        def __eq__(self, other): return True
        def __str__(self): return "7"
    class Anything:
        def __eq__(self, other): return True
        def __hash__(self): return 0
    class Impostor:
        __class__ = int                     # isinstance(Impostor(), int) is True
        def __eq__(self, other): return True
    class Solution:
        def solve(self, which):
            return {"int": Liar(1), "list": LyingList([1]), "str": LyingStr("1"), "any": Anything(),
                    "impostor": Impostor(), "tuple": (Liar(1),)}[which]
    """
    for which, expected in [("int", "7"), ("list", "[7]"), ("str", '"7"'), ("any", "7"), ("impostor", "7"),
                            ("tuple", "[7]")]:
        verdict = judge(bwrap_backend, code, [(f'"{which}"', expected)], fn_name="solve")
        assert not verdict.passed, which
    # the same values are read for what they are
    assert judge(bwrap_backend, code, [('"list"', "[1]")], fn_name="solve").passed


def test_disk_and_proc_hold_no_tests_and_the_driver_is_out_of_reach(bwrap_backend):
    code = r"""
    import os, re
    PATTERN = re.compile(rb"EXPECTED-[0-9a-f]{32}")
    found, refused = [], []
    for root, dirs, files in os.walk("/"):
        if root.startswith(("/proc", "/sys", "/usr", "/dev")):
            dirs[:] = []
            continue
        for name in files:
            try:
                with open(os.path.join(root, name), "rb") as fh:
                    found += PATTERN.findall(fh.read(1 << 24))
            except OSError:
                pass
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        for name in ("environ", "cmdline", "maps"):
            try:
                found += PATTERN.findall(open(f"/proc/{pid}/{name}", "rb").read())
            except OSError:
                pass
    for path, mode in (("/proc/1/mem", "rb"), ("/proc/1/fd/0", "rb"), ("/proc/1/fd/1", "wb"),
                       ("/proc/1/environ", "rb")):
        try:
            with open(path, mode) as fh:
                fh.write(b"E\x00\x00\x00\x02{}") if "w" in mode else fh.read(1)
            found.append(path.encode())
        except OSError:
            refused.append(path)
    print(sorted(os.listdir("/workspace")), len(refused), b" ".join(found).decode() or "nothing")
    """
    listing = "['driver.py', 'harness.py', 'solution.py'] 4 nothing"
    verdict = judge(bwrap_backend, code, [("", listing), ("", marker("EXPECTED"))], stop=False)
    assert statuses(verdict) == ["passed", "wrong_answer"]


def test_files_and_ipc_left_for_later_tests_are_gone(bwrap_backend):
    code = r"""
    import ctypes, os, socket, time
    PLACES = ["/tmp/note", "/dev/shm/note", "/dev/note", "note", os.path.expanduser("~/note"), "/workspace/note"]
    libc = ctypes.CDLL(None, use_errno=True)
    if input() == "write":
        for place in PLACES:
            try:
                open(place, "w").write("from test 1")
            except OSError:
                pass
        os.makedirs("/tmp/a/b/c", exist_ok=True)
        os.chmod("/tmp/a", 0)                 # try to make the note undeletable
        os.chmod("/tmp", 0o500)
        ipc = [libc.shmget(1234, 4096, 0o1666), libc.msgget(1234, 0o1666), libc.semget(1234, 1, 0o1666)]
        print("wrote", sum(1 for i in ipc if i != -1))
    else:
        seen = [p for p in PLACES if os.path.exists(p)] + os.listdir("/tmp") + os.listdir("/dev/shm")
        ipc = [libc.shmget(1234, 0, 0), libc.msgget(1234, 0), libc.semget(1234, 0, 0)]
        seen += [str(i) for i in ipc if i != -1]
        print("seen " + " ".join(seen) if seen else "fresh")
    """
    verdict = judge(bwrap_backend, code, [("write", "wrote 0"), ("read", "fresh"), ("read", "fresh")], stop=False)
    assert statuses(verdict) == ["passed", "passed", "passed"]


def test_a_tree_the_driver_cannot_clean_gets_the_next_test_a_fresh_sandbox(bwrap_backend):
    code = r"""
    import os
    if input() == "deep":
        os.chdir("/tmp")
        for _ in range(3000):                 # past PATH_MAX: the driver's cleanup cannot walk it
            os.mkdir("d" * 40)
            os.chdir("d" * 40)
        print("deep")
    else:
        print("fresh" if not os.listdir("/tmp") else "seen")
    """
    verdict = judge(bwrap_backend, code, [("deep", "deep"), ("read", "fresh")], stop=False)
    assert statuses(verdict) == ["passed", "passed"]


def test_printing_gigabytes_stops_at_the_output_cap(bwrap_backend):
    code = "import sys\nchunk = 'x' * (1 << 20)\nwhile True: sys.stdout.write(chunk)"
    verdict = judge(bwrap_backend, code, [("", "x")])
    assert statuses(verdict) == ["output_limit"] and verdict.outcomes[0].time_sec < 10  # EFBIG ended it
    stubborn = "import os\nchunk = b'x' * (1 << 20)\nwhile True:\n    try: os.write(1, chunk)\n    except OSError: pass"
    verdict = judge(bwrap_backend, stubborn + "\n", [("", "x"), ("", "x")], stop=False, case_timeout_sec=1)
    assert statuses(verdict) == ["output_limit", "output_limit"]
    assert judge(bwrap_backend, "print(input())", [("ok", "ok")]).passed


def test_loops_fork_bombs_and_ignored_signals_end_at_the_time_limit(bwrap_backend):
    tag = f"{secrets.randbelow(10 ** 9)}.{secrets.randbelow(10 ** 6)}"
    code = f"""
    import os, signal, subprocess, time
    kind = input()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    if kind == "loop":
        while True: pass
    if kind == "bomb":
        subprocess.Popen(["sleep", "{tag}"], start_new_session=True)
        while True:
            try:
                os.fork()
            except OSError:
                pass
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    print("alone" if pids == [1, os.getpid()] else f"others {{pids}}")
    """
    tests = [("loop", "x"), ("alone?", "alone"), ("bomb", "x"), ("alone?", "alone")]
    verdict = judge(bwrap_backend, code, tests, stop=False, case_timeout_sec=1, pids=32)
    assert statuses(verdict) == ["time_limit", "passed", "time_limit", "passed"]
    assert host_processes_with(tag) == []


def test_exiting_0_after_a_guess_is_just_a_wrong_answer_and_late_output_is_lost(bwrap_backend):
    code = r"""
    import os, sys, time
    answer = input()
    print("a guess", flush=True)
    if os.fork() == 0:                        # a helper that prints the right answer a little later
        time.sleep(3)
        print(answer, flush=True)
        os._exit(0)
    os._exit(0)
    """
    verdict = judge(bwrap_backend, code, [("right", "a guess\nright")])
    assert statuses(verdict) == ["wrong_answer"]
    assert statuses(judge(bwrap_backend, "print(1)\nexit(0)", [("", "2")])) == ["wrong_answer"]


def test_killing_everything_in_reach_spares_the_driver_and_other_problems(bwrap_backend):
    killer = textwrap.dedent(r"""
    import os, signal
    for pid in range(1, 5000):
        for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGTERM):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass  # nothing left to kill
    """)
    victim = "import time\ntime.sleep(1.5)\nprint(input())"

    async def both() -> list:
        judge_ = Judge(bwrap_backend, JudgeLimits(), parallel=2)
        return await asyncio.gather(
            judge_.judge(killer, [TestCase(input="", output="1")] * 3, None),
            judge_.judge(victim, [TestCase(input="v", output="v")], None))

    attacker, other = asyncio.run(both())
    assert other.passed
    # the attacker only killed itself (its own pid is in the range) ...
    assert statuses(attacker) == ["runtime_error", "not_run", "not_run"]
    assert attacker.outcomes[0].detail == "killed by signal SIGKILL"
    # ... and the driver survived every kill: sparing itself, the program passes every test
    spare = killer.replace("    for sig", "    if pid == os.getpid(): continue\n    for sig") + "print(1)\n"
    verdict = judge(bwrap_backend, spare, [("", "1"), ("", "1"), ("", "1")], stop=False)
    assert statuses(verdict) == ["passed", "passed", "passed"]


def test_a_process_left_behind_reaches_neither_the_next_test_nor_the_next_problem(bwrap_backend):
    tag = f"{secrets.randbelow(10 ** 9)}.{secrets.randbelow(10 ** 6)}"
    daemon = f"""
    import os, signal
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.execvp("sleep", ["sleep", "{tag}"])
        os._exit(0)
    print("left one")
    """
    assert judge(bwrap_backend, daemon, [("", "left one")]).passed
    assert host_processes_with(tag) == []
    look = "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()) == [1, os.getpid()])"
    assert judge(bwrap_backend, look, [("", "True")]).passed


class RecordingBackend(BwrapBackend):
    """The real bwrap backend, keeping a copy of everything that enters a sandbox: the spec, every file of its
    workspace, and every byte written to its stdin."""

    def __init__(self):
        super().__init__()
        self.entered = bytearray()

    async def start(self, spec: SandboxSpec):
        self.entered += spec.model_dump_json().encode()
        for path in sorted(spec.workspace.rglob("*")) if spec.workspace else []:
            if path.is_file():
                self.entered += path.read_bytes()
        process = await super().start(spec)
        reader, writer = process.channel()
        original = writer.write

        def write(data: bytes) -> None:
            self.entered += data
            original(data)

        writer.write = write
        return process


def test_an_expected_output_never_enters_a_sandbox_so_no_program_can_print_it():
    backend = RecordingBackend()
    inputs = [marker("INPUT") for _ in range(3)]
    expected = [marker("EXPECTED") for _ in range(3)]
    verdict = judge(backend, MEMORY_SCAN, list(zip(inputs, expected)), stop=False)
    assert statuses(verdict) == ["wrong_answer"] * 3
    assert all(i.encode() in backend.entered for i in inputs)  # the recording sees what does go in ...
    assert not any(e.encode() in backend.entered for e in expected)  # ... and no expected output ever does
    call = judge(backend, "def f(x):\n    return x", [(f'"{inputs[0]}"', f'"{expected[0]}"')], fn_name="f")
    assert not call.passed and expected[0].encode() not in backend.entered
