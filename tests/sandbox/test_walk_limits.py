"""Bounded walks: a hostile tree (wide, deep, long-named, linked, slow, oddly named) is refused fast and clean."""

from __future__ import annotations

import os

import pytest

from mac.offload import Cancelled, Deadline, DeadlineExceeded
from mac.sandbox.snapshot import TreeLimits, TreeRefused, content_hash, snapshot_workspace
from mac.sandbox.walk import has_control_chars


@pytest.fixture
def ws(tmp_path):
    folder = tmp_path / "ws"
    folder.mkdir()
    (folder / "agent.py").write_text("print('hi')\n")
    return folder


def _refused(ws, tmp_path, limit: str, **limits) -> TreeRefused:
    with pytest.raises(TreeRefused) as info:
        snapshot_workspace(ws, tmp_path / "snap", limits=TreeLimits(**limits))
    assert info.value.limit == limit and info.value.value > info.value.allowed
    assert not (tmp_path / "snap").exists()  # the partial copy is gone
    return info.value


def test_empty_folders_count_as_folders_and_entries(ws, tmp_path):
    for i in range(60):
        (ws / f"d{i}").mkdir()
    exc = _refused(ws, tmp_path, "dirs", dirs=50)
    assert "more than 50 folders" in str(exc) and "remove generated folders" in str(exc)
    _refused(ws, tmp_path, "entries", entries=40)


def test_a_wide_folder_is_refused_while_it_is_listed(ws, tmp_path):
    wide = ws / "wide"
    wide.mkdir()
    for i in range(500):
        (wide / f"f{i}").touch()
    exc = _refused(ws, tmp_path, "entries", entries=100)
    assert exc.value == 101  # listing stopped at the limit, not after reading the whole folder


def test_depth_path_length_and_symlink_limits(ws, tmp_path):
    deep = ws
    for _ in range(12):
        deep = deep / "d"
    deep.mkdir(parents=True)
    assert _refused(ws, tmp_path, "depth", depth=10).detail()["allowed"] == 10
    long = ws / ("n" * 200)
    long.mkdir()
    (long / ("m" * 200)).touch()
    _refused(ws, tmp_path, "path_bytes", path_bytes=300)
    for i in range(12):
        (ws / f"link{i}").symlink_to("/etc/hostname")
    _refused(ws, tmp_path, "symlinks", symlinks=10)


class _FdProbe(Deadline):
    """A deadline that also counts the descriptors open on `folder` each time the walk checks it."""

    def __init__(self, folder):
        super().__init__(None)
        self.folder, self.most = str(folder), 0

    def check(self) -> None:
        self.most = max(self.most, sum(_target(fd).startswith(self.folder) for fd in os.listdir("/proc/self/fd")))
        super().check()


def _target(fd: str) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def test_a_walk_keeps_few_descriptors_open(ws, tmp_path):
    for i in range(400):  # many sibling folders, each with a child: a walk that queues fds would hold 400
        (ws / f"d{i:03}" / "sub").mkdir(parents=True)
        (ws / f"d{i:03}" / "sub" / "f.txt").write_text(str(i))
    chain = ws.joinpath(*["c"] * 20)
    chain.mkdir(parents=True)
    probe = _FdProbe(ws)
    snap = snapshot_workspace(ws, tmp_path / "snap", limits=TreeLimits(dirs=2000), deadline=probe)
    assert snap.files == 401
    assert 20 <= probe.most <= 20 + 3, probe.most  # one per level of the current path (+ a listing, a file)


def test_deadline_and_cancellation_stop_the_walk_and_remove_the_copy(ws, tmp_path):
    for i in range(50):
        (ws / f"f{i}.txt").write_text("x")
    with pytest.raises(DeadlineExceeded):
        snapshot_workspace(ws, tmp_path / "snap", deadline=Deadline(0.0))
    assert not (tmp_path / "snap").exists()
    stopped = Deadline(None)
    stopped.cancel()
    with pytest.raises(Cancelled):
        snapshot_workspace(ws, tmp_path / "snap", deadline=stopped)
    assert not (tmp_path / "snap").exists()


def test_names_with_control_characters_are_refused_and_shown_escaped(ws, tmp_path):
    (ws / "evil\x1b[2J.py").write_text("A = 1\n")
    (ws / "bidi\u202etxt.py").write_text("B = 2\n")
    (ws / "bell\x07dir").mkdir()
    (ws / "bell\x07dir" / "inside.py").write_text("C = 3\n")
    os.close(os.open(os.path.join(os.fsencode(ws), b"latin\xff.py"), os.O_CREAT | os.O_WRONLY, 0o644))
    (ws / "caf\u00e9.py").write_text("D = 4\n")  # printable non-ASCII is fine
    snap = snapshot_workspace(ws, tmp_path / "snap")
    refused = {s.path for s in snap.skipped if s.reason == "control_chars"}
    assert refused == {"evil\\x1b[2J.py", "bidi\\u202etxt.py", "bell\\x07dir", "latin\\udcff.py"}
    assert all(s.path.isprintable() for s in snap.skipped)
    assert sorted(os.listdir(snap.path)) == ["agent.py", "caf\u00e9.py"]
    assert content_hash(ws) == snap.sha256 == content_hash(snap.path)


def test_control_character_detection():
    assert not has_control_chars("agent_v2 (copy).py") and not has_control_chars("données.json")
    assert all(has_control_chars(n) for n in ("a\nb", "a\tb", "a\x7fb", "a\x9bb", "a\u2066b", "a\udc80b"))


def test_skipped_entries_are_listed_up_to_a_cap_and_counted(ws, tmp_path):
    for i in range(1200):
        (ws / f"l{i}").symlink_to("/nonexistent")
    snap = snapshot_workspace(ws, tmp_path / "snap", limits=TreeLimits(symlinks=5000))
    assert snap.skipped_total == 1200 and len(snap.skipped) == 1000
