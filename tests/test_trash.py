"""The trash: a folder disappears at once and is deleted in the background; leftovers are swept."""

from __future__ import annotations

import os
import time

from mac.trash import discard, sweep, trash_dir


def _wait_empty(folder, seconds: float = 30.0, keep=None) -> bool:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        if list(folder.iterdir()) == ([keep] if keep else []):
            return True
        time.sleep(0.05)
    return False


def test_discard_and_sweep(tmp_path, monkeypatch):
    monkeypatch.setenv("MAC_SCRATCH", str(tmp_path / "scratch"))
    work = tmp_path / "scratch" / "trial-x"
    (work / "a" / "b").mkdir(parents=True)
    (work / "a" / "b" / "f.txt").write_text("x")
    discard(work)
    assert not work.exists()  # gone for everyone at once
    assert _wait_empty(trash_dir())
    left = trash_dir() / "999999999-left-by-a-dead-controller"
    (left / "c").mkdir(parents=True)
    busy = trash_dir() / f"{os.getpid()}-being-deleted-by-a-live-one"
    busy.mkdir()
    sweep()
    assert _wait_empty(trash_dir(), keep=busy)
    discard(None)
    discard(tmp_path / "never-existed")
