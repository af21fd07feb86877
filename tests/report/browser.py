"""Runs Debian's chromium headless on a page: DOM after scripts ran, console messages, a screenshot."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "install it with: apt-get install -y chromium"

_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--enable-logging=stderr", "--v=0"]


def require_chromium() -> None:
    """CI installs chromium (.ci/run), so there a missing browser fails; elsewhere the test says how to get it."""
    if CHROMIUM.is_file():
        return
    message = f"the browser test needs Debian's chromium at {CHROMIUM}; {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_chromium(url: str, tmp: Path, *args: str, timeout: float = 120.0) -> tuple[str, list[str]]:
    """(stdout, console lines) of one headless run with a fresh profile; the whole process group dies after."""
    require_chromium()
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    profile.mkdir(parents=True)
    proc = subprocess.Popen([str(CHROMIUM), *_FLAGS, f"--user-data-dir={profile}", *args, url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "HOME": str(profile)})
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # helpers (gpu, zygote) may outlive the browser process
        except ProcessLookupError:
            pass
        proc.wait()
    console = [line for line in err.splitlines() if ":CONSOLE" in line]
    return out, console
