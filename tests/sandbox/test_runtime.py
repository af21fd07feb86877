"""The sandbox runtime: keyed by its inputs, built once under a lock, world-readable, precompiled, and holding
only the SDK of MAC (never the controller's site-packages)."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from mac.errors import SandboxError
from mac.sandbox import runtime as rt


def test_default_runtime_layout_is_world_readable_and_precompiled(bwrap_backend):
    built = rt.ensure_runtime()
    assert rt.is_ready(built) and built.python.exists() and built.init.is_file()
    site = next(built.prefix.glob("lib/python3*/site-packages"))
    assert (site / "mac" / "__init__.py").read_text().startswith('"""MAC inside a sandbox')
    assert (site / "mac" / "sdk" / "run.py").is_file()
    assert (site / "base_agent.py").is_file() and (site / "openai_helper.py").is_file()
    assert list((site / "mac" / "sdk" / "__pycache__").glob("run.*.pyc"))
    assert list((site / "openai" / "__pycache__").glob("*.pyc"))
    for folder, _dirs, files in os.walk(built.root):
        assert os.stat(folder).st_mode & stat.S_IROTH and os.stat(folder).st_mode & stat.S_IXOTH, folder
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                assert os.stat(path).st_mode & stat.S_IROTH, path
    assert (built.etc / "passwd").read_text().count(":") > 6


def test_key_follows_the_inputs():
    default = rt.runtime_for()
    assert rt.runtime_for() == default
    assert rt.runtime_for(["sympy"]).key != default.key
    assert rt.runtime_for(["sympy"]).packages == ("openai>=1.30", "sympy")


def test_interpreter_must_be_reachable_by_other_users(monkeypatch, tmp_path):
    assert not rt.others_can_reach(tmp_path)  # pytest's tmp folders are private (0700)
    monkeypatch.setenv("MAC_SANDBOX_PYTHON", str(tmp_path / "python3"))
    with pytest.raises(SandboxError, match="MAC_SANDBOX_PYTHON"):
        rt.find_interpreter()


def test_concurrent_first_uses_build_once(monkeypatch, box):
    monkeypatch.setenv("MAC_RUNTIME", str(box / "runtimes"))
    builds, results, errors = [], [], []

    def first_use():
        try:
            results.append(rt.ensure_runtime(log=lambda msg: builds.append(msg) if msg.startswith("creating") else None))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert errors == [] and len(builds) == 1
    assert len({r.root for r in results}) == 1 and rt.is_ready(results[0])
    assert str(results[0].root).startswith(str(box / "runtimes"))
