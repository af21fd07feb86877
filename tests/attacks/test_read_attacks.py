"""Attacks that look for answers and secrets from inside the sandbox: by path, by searching the filesystem,
through /proc of other processes, in the controller's temporary files, in the interpreter's own memory, and the
upstream key in the environment. Each must find nothing, and the controller must keep working."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

import pytest

from attackkit import assert_controller_works, report_of
from mac.config import SandboxLimits
from mac.paths import scratch_home
from mac.sandbox.base import SandboxSpec

MARKER = "ANSWER-MARKER-7f3a9c"
KEY = "sk-upstream-SECRET-b41d"

SEARCH = r"""
import glob, json, os, sys
MARKER = sys.argv[1].encode()
paths = json.loads(sys.argv[2])
found, opened, names, scanned = [], {}, [], 0
for path in paths:                       # 1. the exact host paths, as if the attacker guessed them
    try:
        data = open(path, "rb").read()
        opened[path] = "read"
        if MARKER in data:
            found.append(path)
    except OSError as exc:
        opened[path] = type(exc).__name__
skip = {"/proc", "/sys", "/dev"}
for root, dirs, files in os.walk("/"):   # 2. every file name, and the content of every file outside /usr
    dirs[:] = [d for d in dirs if os.path.join(root, d) not in skip]
    for name in files:
        path = os.path.join(root, name)
        if path.startswith(("/usr/", sys.prefix)) or os.path.islink(path):
            continue  # public system files and the runtime: read-only, the same for everyone
        if "answers" in name.lower():
            names.append(path)
        try:
            with open(path, "rb") as fh:
                data = fh.read(1 << 20)
            scanned += 1
            if MARKER in data:
                found.append(path)
        except OSError:
            pass
for top in ("/tmp", "/var", "/run", "/mac", "/workspace", "/home", "/root", "/etc", "/opt"):
    names += glob.glob(top + "/**/*answers*", recursive=True)
print(json.dumps({"found": found, "opened": opened, "names": sorted(set(names)), "scanned": scanned}))
"""


@pytest.fixture
def secrets(tmp_path):
    """Answers where a controller keeps them: a private folder, its scratch folder (0600), and /tmp (0644)."""
    private = tmp_path / "answers.jsonl"
    private.write_text(json.dumps({"id": "q1", "answer": MARKER}) + "\n")
    scratch = Path(tempfile.mkdtemp(prefix="ctrl-", dir=scratch_home()))
    (scratch / "answers.json").write_text(MARKER)
    (scratch / "answers.json").chmod(0o600)
    host_tmp = Path(tempfile.mkstemp(prefix="mac-answers-", dir="/tmp")[1])
    host_tmp.write_text(MARKER)
    host_tmp.chmod(0o644)  # even a world-readable file is invisible: it is not in the sandbox's mount namespace
    yield [str(private), str(scratch / "answers.json"), str(host_tmp)]
    host_tmp.unlink()
    (scratch / "answers.json").unlink()
    scratch.rmdir()


def test_answers_by_path_and_by_search(attack, bwrap_backend, secrets):
    result = attack(SEARCH, args=[MARKER, json.dumps(secrets)], limits=SandboxLimits(wall_sec=120))
    report = report_of(result)
    assert report["found"] == []
    assert set(report["opened"].values()) == {"FileNotFoundError"}
    assert report["names"] == [] and report["scanned"] > 10  # the search did run over the sandbox's files
    assert_controller_works(bwrap_backend)


def test_proc_of_the_controller_and_other_processes(attack, bwrap_backend, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    script = r"""
    import json, os, sys
    MARKER = (sys.argv[1] + sys.argv[2]).encode()  # given in two halves, so our own cmdline does not match
    controller = int(sys.argv[3])
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    found, denied = [], {}
    for pid in set(pids) | {controller}:
        for what in ("environ", "cmdline", "mem", "maps", "fd", "root/etc/hostname"):
            path = f"/proc/{pid}/{what}"
            try:
                data = ("\n".join(os.listdir(path)).encode() if what == "fd" else open(path, "rb").read(1 << 16))
                if MARKER in data:
                    found.append(path)
            except OSError as exc:
                denied[path] = type(exc).__name__
    print(json.dumps({"pids": pids, "found": found, "controller": denied.get(f"/proc/{controller}/environ")}))
    """
    report = report_of(attack(script, args=[KEY[:10], KEY[10:], str(os.getpid())]))
    assert report["found"] == []
    assert len(report["pids"]) <= 3  # bwrap's pid 1 and the attack itself: no host process is visible
    if os.getpid() not in report["pids"]:
        assert report["controller"] == "FileNotFoundError"
    assert_controller_works(bwrap_backend)


def test_upstream_key_is_not_in_the_sandbox(attack, bwrap_backend, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("MAC_UPSTREAM_KEY", KEY)
    script = r"""
    import json, os, sys
    key = sys.argv[1] + sys.argv[2]  # given in two halves, so our own cmdline does not match
    seen = {"env": key in json.dumps(dict(os.environ))}
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        for what in ("environ", "cmdline"):
            try:
                seen[f"{pid}/{what}"] = key.encode() in open(f"/proc/{pid}/{what}", "rb").read()
            except OSError:
                pass
    print(json.dumps(seen))
    """
    report = report_of(attack(script, args=[KEY[:10], KEY[10:]], env={"TASK_MODEL_API_KEY": "gateway-token"}))
    assert "1/environ" in report and "env" in report
    assert not any(report.values())
    assert_controller_works(bwrap_backend)


def test_runner_process_never_holds_answers(bwrap_backend, box):
    """Walk the artifact process's frames and every gc object: the questions are there, the answers are not."""
    question = "QUESTION-MARKER-5e1 What is 6*7?"
    (box / "in").mkdir()
    (box / "out").mkdir()
    (box / "ws").mkdir()
    (box / "in" / "problems.json").write_text(json.dumps([{"idx": 0, "question": question}]))
    (box / "ws" / "agent.py").write_text(
        "import gc, sys\n"
        "from mac.sdk import BaseAgent, Prediction\n"
        "class Agent(BaseAgent):\n"
        "    def solve(self, problems, timeout_sec):\n"
        "        blobs = [repr(o)[:10000] for o in gc.get_objects()]\n"
        "        for frame in sys._current_frames().values():\n"
        "            while frame is not None:\n"
        "                blobs.append(repr(frame.f_locals)[:10000]); frame = frame.f_back\n"
        "        text = '\\n'.join(blobs)\n"
        # the answer marker is spelled backwards in this source, and only turned around after the walk
        f"        found = [m for m in ({question[:20]!r}, {MARKER[::-1]!r}[::-1]) if m in text]\n"
        "        return [Prediction(p.idx, ','.join(found)) for p in problems]\n")
    spec = SandboxSpec(label="gc-walk", argv=["python", "-m", "mac.sdk.run", "--agent", "/workspace/agent.py",
                                              "--problems", "/mac/in/problems.json", "--out", "/mac/out/r.json",
                                              "--timeout", "60"],
                       workspace=box / "ws", inputs=box / "in", outputs=box / "out")
    result = asyncio.run(bwrap_backend.run(spec))
    assert result.returncode == 0, result.stderr
    [prediction] = json.loads((box / "out" / "r.json").read_text())["predictions"]
    assert prediction["pred"] == question[:20]  # the walk works: it finds the question, never the answer
    assert_controller_works(bwrap_backend)
