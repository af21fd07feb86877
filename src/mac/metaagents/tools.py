"""Installing a meta-agent's tool on the host, once, into a cached world-readable prefix bound read-only into its
sandbox at the same path (venv shebangs and npm links are absolute).

    <runtime_home>/tools/<name>-<version>/     e.g. mini-swe-agent-2.4.6/venv, claude-code-2.1.332/node_modules
        READY                                    written last: what was installed

Pinned versions only; a concurrent first use waits on a file lock and then finds the prefix READY. pip tools get
a venv made with the sandbox interpreter (mac.sandbox.runtime.find_interpreter), bytecode precompiled (the prefix
is read-only inside). npm tools are installed with `npm install --prefix` (lifecycle scripts off: the native
binaries come from the packages' optional platform dependencies, which is all their install scripts fetch).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from collections.abc import Callable

from mac.errors import ConfigError
from mac.paths import runtime_home
from mac.sandbox.runtime import _chmod_world_readable, _make_reachable, find_interpreter
from mac.sandbox.runtime import find_uv as _uv

INSTALL_TIMEOUT_SEC = 1800


def tools_home() -> Path:
    return runtime_home() / "tools"


def tool_prefix(name: str, version: str) -> Path:
    return tools_home() / f"{name}-{version}"


def ensure_tool(name: str, version: str, build: Callable[[Path], None], *, packages: list[str]) -> Path:
    """The prefix of tool `name`-`version`, running `build(prefix)` under a lock if it is not READY. Blocking."""
    prefix = tool_prefix(name, version)
    if (prefix / "READY").is_file():
        return prefix
    home = tools_home()
    home.mkdir(parents=True, exist_ok=True)
    _make_reachable(home.parent)
    _make_reachable(home)
    with open(home / f".lock-{name}-{version}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (prefix / "READY").is_file():
            return prefix
        shutil.rmtree(prefix, ignore_errors=True)
        prefix.mkdir(parents=True)
        try:
            build(prefix)
            _chmod_world_readable(prefix)
            (prefix / "READY").write_text(json.dumps({"name": name, "version": version, "packages": packages}))
            (prefix / "READY").chmod(0o644)
        except BaseException:
            shutil.rmtree(prefix, ignore_errors=True)
            raise
    return prefix


def _run(argv: list[str], what: str, fix: str, cwd: Path | None = None) -> None:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_LINK_MODE": "copy", "npm_config_update_notifier": "false",
           "npm_config_fund": "false", "npm_config_audit": "false"}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=INSTALL_TIMEOUT_SEC)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"cannot install {what} ({exc}): {fix}") from exc
    if done.returncode != 0:
        raise ConfigError(f"cannot install {what}: {(done.stderr or done.stdout).strip()[-600:]}; {fix}")


def pip_tool(name: str, version: str, packages: list[str]) -> Path:
    """A venv (sandbox interpreter) at <prefix>/venv with `packages`; returns the prefix."""
    def build(prefix: Path) -> None:
        venv = prefix / "venv"
        interpreter = find_interpreter()
        uv = _uv()
        fix = "it needs PyPI (or UV_INDEX_URL) once; then it is cached"
        if uv:
            _run([uv, "venv", "--quiet", "--python", str(interpreter.path), str(venv)], f"a venv for {name}", fix)
            _run([uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "--compile-bytecode",
                  *packages], ", ".join(packages), fix)
        else:
            _run([str(interpreter.path), "-m", "venv", str(venv)], f"a venv for {name}", fix)
            _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *packages], ", ".join(packages), fix)
            _run([str(venv / "bin" / "python"), "-m", "compileall", "-q", str(venv / "lib")], "bytecode", fix)

    return ensure_tool(name, version, build, packages=packages)


def npm_tool(name: str, version: str, packages: list[str]) -> Path:
    """`npm install --prefix <prefix> packages` (exact versions, no lifecycle scripts); returns the prefix."""
    npm = shutil.which("npm")
    if npm is None:
        raise ConfigError(f"{name} is installed with npm, which is not on PATH: install Node.js and npm "
                          "(e.g. `apt-get install npm`); the tool itself runs on a pinned runtime")

    def build(prefix: Path) -> None:
        _run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--ignore-scripts",
              "--omit=dev", "--no-save", *packages], ", ".join(packages),
             "it needs the npm registry once (or npm_config_registry); then it is cached", cwd=prefix)

    return ensure_tool(name, version, build, packages=packages)
