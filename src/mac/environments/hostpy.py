"""How to start the host's Python inside an image that may have none: the interpreter, its dynamic loader and
libraries are bound read-only under /.mac/host and the loader is called explicitly (`ld.so --library-path ...
python`), so nothing of the image's own /lib is used and nothing leaks into the commands envd runs (PYTHONHOME is
set for envd alone; its children get the environment's variables only)."""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mac.errors import EnvError
from mac.sandbox.rootfs_argv import HOST_DIR
from mac.sandbox.runtime import find_interpreter


@dataclass(frozen=True)
class HostPython:
    argv: tuple[str, ...]
    """Inside paths: loader, --library-path, dirs, interpreter."""
    folders: tuple[Path, ...]
    """Host folders to bind under HOST_DIR."""
    home: str
    """PYTHONHOME inside."""


def inside(path: Path | str) -> str:
    return f"{HOST_DIR}{path}"


@functools.lru_cache(maxsize=1)
def host_python() -> HostPython:
    interp = find_interpreter()
    python = Path(os.path.realpath(interp.path))
    prefix = Path(os.path.realpath(interp.prefix))
    loader, libdirs = _ldd(python)
    folders = [prefix]
    for path in [loader.parent, *libdirs]:
        if not any(path == f or f in path.parents for f in folders):
            folders.append(path)
    argv = (inside(loader), "--library-path", ":".join(inside(d) for d in libdirs), inside(python))
    return HostPython(argv, tuple(folders), inside(prefix))


def _ldd(python: Path) -> tuple[Path, list[Path]]:
    try:
        out = subprocess.run(["ldd", str(python)], capture_output=True, text=True, timeout=30, env={}).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise EnvError(f"cannot inspect {python} with ldd ({exc}): install libc-bin, or set MAC_SANDBOX_PYTHON to "
                       "a dynamically linked CPython") from exc
    loader, libdirs = None, []
    for line in out.splitlines():
        match = re.search(r"=>\s+(/\S+)", line)
        if match:
            folder = Path(os.path.realpath(match.group(1))).parent
            if folder not in libdirs:
                libdirs.append(folder)
        elif re.match(r"\s*/\S*ld-linux\S*", line):
            loader = Path(os.path.realpath(line.split()[0]))
    if loader is None:
        raise EnvError(f"cannot find the dynamic loader of {python} (ldd said: {out.strip()[:300]}); set "
                       "MAC_SANDBOX_PYTHON to a dynamically linked CPython")
    if loader.parent not in libdirs:
        libdirs.append(loader.parent)
    return loader, libdirs
