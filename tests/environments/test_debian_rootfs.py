"""Slow, opt-in: a real Debian root filesystem built with mmdebstrap runs as an environment with its own programs
(no host runtime): Python, pip and git from the image, as root inside, writes through the overlay.

    MAC_TEST_MMDEBSTRAP=1 python -m pytest tests/environments/test_debian_rootfs.py

Skipped, with the reason, unless MAC_TEST_MMDEBSTRAP=1 and mmdebstrap is installed (it needs a Debian mirror)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess

import pytest

from mac.environments.base import EnvironmentSpec

pytestmark = pytest.mark.slow


def test_mmdebstrap_rootfs_runs_its_own_programs(bwrap_env, box):
    if os.environ.get("MAC_TEST_MMDEBSTRAP") != "1":
        pytest.skip("NOT RUN: opt-in, set MAC_TEST_MMDEBSTRAP=1 (builds a Debian rootfs, ~1 min, needs a mirror)")
    if shutil.which("mmdebstrap") is None:
        pytest.skip("NOT RUN: mmdebstrap is not installed (apt-get install mmdebstrap)")
    root = box / "debian"
    done = subprocess.run(["mmdebstrap", "--variant=minbase", "--include=python3,git", "--mode=root",
                           "bookworm", str(root)], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]

    async def body():
        spec = EnvironmentSpec(image=f"rootfs:{root}", label="debian")
        async with await bwrap_env.start(spec) as env:
            script = ("id -u; python3 -c 'import sys; print(sys.prefix)'; git --version | cut -d' ' -f1-2; "
                      "echo hi > /etc/motd && cat /etc/motd; cd /srv && git init -q repo && echo ok")
            return await env.exec(script, timeout=120)

    result = asyncio.run(body())
    assert result.returncode == 0, result
    assert result.stdout.splitlines() == ["0", "/usr", "git version", "hi", "ok"]
