"""A meta-agent leaves links in its (writable) workspace hoping the controller follows them: symlinks to the
answers, to / or /proc, hard links, FIFOs. The controller's snapshot skips them, handing the workspace to another
slot does not chown through them, and the artifact run on the snapshot sees none of the secrets."""

from __future__ import annotations

import asyncio
import os

from attackkit import assert_controller_works, report_of
from mac.sandbox.base import SandboxSpec
from mac.sandbox.snapshot import snapshot_workspace

MARKER = "ANSWER-MARKER-link-91c"

PLANT = r"""
import json, os, sys
secret = sys.argv[1]
out = {}
os.symlink(secret, "/workspace/answers.txt")            # the host path, as if guessed
os.symlink("/", "/workspace/rootfs")
os.symlink("/proc/1/environ", "/workspace/environ")
os.symlink("/etc/hostname", "/workspace/hostname")
os.mkfifo("/workspace/pipe")
for name, src in (("runtime", sys.executable), ("inputs", "/mac/in/q.txt")):
    try:
        os.link(src, f"/workspace/hl-{name}")
        out[name] = "linked"
    except OSError as exc:
        out[name] = exc.errno
open("/workspace/agent.py", "w").write("print(open('/workspace/answers.txt').read())\n")
print(json.dumps(out))
"""

READ_ALL = r"""
import json, os, sys
marker = sys.argv[1] + sys.argv[2]
seen = []
for root, dirs, files in os.walk("/workspace"):
    for name in files:
        try:
            if marker in open(os.path.join(root, name), errors="replace").read():
                seen.append(name)
        except OSError:
            pass
print(json.dumps({"seen": seen, "files": sorted(os.listdir("/workspace"))}))
"""


def test_links_in_a_dev_workspace_never_reach_the_secret(attack, bwrap_backend, box, tmp_path):
    secret = box / "private" / "answers.txt"  # reachable path, so only the snapshot rules stand in the way
    secret.parent.mkdir()
    secret.write_text(MARKER)
    secret.chmod(0o600)
    ws, inputs = box / "dev-ws", box / "in"
    ws.mkdir()
    inputs.mkdir()
    (inputs / "q.txt").write_text("question")
    planted = report_of(attack(PLANT, args=[str(secret)], workspace=ws, workspace_writable=True, role="dev",
                               inputs=inputs))
    assert planted == {"runtime": 18, "inputs": 18}  # EXDEV: no hard link across the sandbox's mounts
    os.link(secret, ws / "hardlink.txt")  # a hard link placed by any other means is skipped too

    # handing the workspace to another slot must not chown through the links
    again = attack("print('{}')", workspace=ws, workspace_writable=True, role="dev")
    assert again.returncode == 0
    assert os.stat("/etc/hostname").st_uid == 0 and secret.stat().st_uid == os.geteuid()

    snap = snapshot_workspace(ws, box / "snapshot")
    reasons = {s.path: s.reason for s in snap.skipped}
    assert reasons == {"answers.txt": "symlink", "rootfs": "symlink", "environ": "symlink", "hostname": "symlink",
                       "pipe": "special", "hardlink.txt": "hardlink"}
    result = asyncio.run(bwrap_backend.run(SandboxSpec(
        label="artifact", argv=["python", "-c", READ_ALL, MARKER[:10], MARKER[10:]], workspace=snap.path)))
    report = report_of(result)
    assert report["seen"] == [] and "answers.txt" not in report["files"]
    artifact = asyncio.run(bwrap_backend.run(SandboxSpec(label="artifact", argv=["python", "/workspace/agent.py"],
                                                         workspace=snap.path)))
    assert MARKER not in artifact.stdout and "FileNotFoundError" in artifact.stderr
    assert_controller_works(bwrap_backend)
