"""snapshot_workspace: copies a workspace without following links, reading specials, or exceeding limits."""

from __future__ import annotations

import os
import socket
import stat
import threading

import pytest

from mac.errors import SandboxError
from mac.sandbox.snapshot import content_hash, snapshot_workspace


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws"
    (ws / "pkg").mkdir(parents=True)
    (ws / "agent.py").write_text("print('hi')\n")
    (ws / "pkg" / "helper.py").write_text("X = 1\n")
    (ws / "run.sh").write_text("#!/bin/sh\n")
    (ws / "run.sh").chmod(0o700)
    return ws


def test_copies_files_world_readable_and_hashes(workspace, tmp_path):
    snap = snapshot_workspace(workspace, tmp_path / "snap")
    assert snap.files == 3 and snap.bytes == len("print('hi')\n") + len("X = 1\n") + len("#!/bin/sh\n")
    assert (snap.path / "pkg" / "helper.py").read_text() == "X = 1\n"
    assert stat.S_IMODE((snap.path / "agent.py").stat().st_mode) == 0o644
    assert stat.S_IMODE((snap.path / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((snap.path / "pkg").stat().st_mode) == 0o755
    assert snap.sha256 == content_hash(workspace) == content_hash(snap.path)
    assert snap.skipped == []


def test_hash_changes_with_content_and_names(workspace, tmp_path):
    before = content_hash(workspace)
    (workspace / "agent.py").write_text("print('ho')\n")
    changed = content_hash(workspace)
    (workspace / "agent.py").rename(workspace / "agent2.py")
    assert len({before, changed, content_hash(workspace)}) == 3
    assert content_hash(workspace / "agent2.py") != changed  # a single file hashes its bytes


def test_symlinks_are_skipped_not_followed(workspace, tmp_path):
    secret_dir = tmp_path / "private"
    secret_dir.mkdir()
    (secret_dir / "answers.txt").write_text("ANSWER-MARKER-42")
    (workspace / "answers.txt").symlink_to(secret_dir / "answers.txt")
    (workspace / "linkdir").symlink_to(secret_dir, target_is_directory=True)
    snap = snapshot_workspace(workspace, tmp_path / "snap")
    assert {(s.path, s.reason) for s in snap.skipped} == {("answers.txt", "symlink"), ("linkdir", "symlink")}
    copied = "".join(p.read_text() for p in snap.path.rglob("*") if p.is_file())
    assert "ANSWER-MARKER-42" not in copied


def test_hardlinked_files_are_skipped(workspace, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("ANSWER-MARKER-42")
    secret.chmod(0o600)
    os.link(secret, workspace / "stolen.txt")
    snap = snapshot_workspace(workspace, tmp_path / "snap")
    assert [(s.path, s.reason) for s in snap.skipped] == [("stolen.txt", "hardlink")]
    assert not (snap.path / "stolen.txt").exists()


def test_fifos_sockets_and_bytecode_are_skipped(workspace, tmp_path):
    os.mkfifo(workspace / "pipe")  # opening it blocking would hang the controller
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(workspace / "sock"))
    (workspace / "__pycache__").mkdir()
    (workspace / "__pycache__" / "agent.cpython-311.pyc").write_bytes(b"\0" * 16)
    (workspace / "evil.pyc").write_bytes(b"\0" * 16)
    done = []
    worker = threading.Thread(target=lambda: done.append(snapshot_workspace(workspace, tmp_path / "snap")))
    worker.start()
    worker.join(10)
    sock.close()
    assert done, "snapshot hung on a FIFO"
    reasons = {s.path: s.reason for s in done[0].skipped}
    assert reasons == {"pipe": "special", "sock": "special", "__pycache__/": "bytecode", "evil.pyc": "bytecode"}
    assert done[0].files == 3


def test_size_limit_raises_and_removes_partial_copy(workspace, tmp_path):
    (workspace / "big.bin").write_bytes(b"x" * 5000)
    with pytest.raises(SandboxError, match="larger than"):
        snapshot_workspace(workspace, tmp_path / "snap", max_bytes=4096)
    assert not (tmp_path / "snap").exists()


def test_file_count_limit(workspace, tmp_path):
    for i in range(10):
        (workspace / f"f{i}.txt").write_text(str(i))
    with pytest.raises(SandboxError, match="more than 5 files"):
        snapshot_workspace(workspace, tmp_path / "snap", max_files=5)
    assert not (tmp_path / "snap").exists()


def test_workspace_itself_a_symlink_is_refused(workspace, tmp_path):
    (tmp_path / "alias").symlink_to(workspace, target_is_directory=True)
    with pytest.raises(SandboxError, match="not a symlink"):
        snapshot_workspace(tmp_path / "alias", tmp_path / "snap")
