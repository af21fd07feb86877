"""Find a Python >= 3.12 and build (once, cached) a venv with Harbor, Inspect AI and this checkout, for the interop
tests. Discovery is generic: $MAC_PY312, `uv python find`, python3.12/python3.13 on PATH, then pyenv's versions."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import platformdirs

PINS = ("harbor==0.26.0", "inspect-ai==0.3.285")
REPO = Path(__file__).resolve().parents[2]


def _works(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "import sys; assert sys.version_info >= (3, 12)"],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def find_python312() -> str | None:
    from mac.sandbox.runtime import find_uv

    candidates = [os.environ.get("MAC_PY312", "")]
    uv = find_uv()
    for version in ("3.12", "3.13"):
        if uv:
            found = subprocess.run([uv, "python", "find", version], capture_output=True, text=True, timeout=30)
            candidates.append(found.stdout.strip() if found.returncode == 0 else "")
        candidates.append(shutil.which(f"python{version}") or "")
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.1[2-9]*/bin/python3.1[2-9]"))
    return next((c for c in candidates if c and _works(c)), None)


def interop_venv(python: str) -> tuple[Path | None, str]:
    """(venv folder, "") or (None, why the install failed)."""
    from mac.sandbox.runtime import find_uv

    pyproject = (REPO / "pyproject.toml").read_bytes()  # new dependencies of ours mean a new venv
    key = hashlib.sha256(f"{python}|{REPO}|{PINS}".encode() + pyproject).hexdigest()[:16]
    venv = Path(platformdirs.user_cache_dir("mac")) / "interop" / f"py312-{key}"
    if (venv / "READY").is_file():
        return venv, ""
    uv = find_uv()
    shutil.rmtree(venv, ignore_errors=True)
    steps = [[uv, "venv", "-q", "--python", python, str(venv)],
             [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), *PINS, "-e", str(REPO)]]
    for argv in steps:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            return None, f"`{' '.join(argv[:3])}` failed: {done.stderr.strip()[-600:]}"
    (venv / "READY").write_text(" ".join(PINS))
    return venv, ""
