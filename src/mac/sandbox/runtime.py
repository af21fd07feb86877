"""The sandbox runtime: the interpreter and venv that untrusted code runs with, mounted read-only in every sandbox.

    <runtime_home>/<key>/
        venv/                  a venv (`python` on the sandbox's PATH) with openai, the domain's packages,
                               mac/sdk (and a minimal mac/__init__.py), base_agent.py and openai_helper.py
        libexec/mac_init.py    the in-sandbox init (relays), see mac.sandbox.init
        etc/                   passwd, group, hosts, nsswitch.conf for the sandbox's /etc
        READY                  written last: what the runtime was built from

`key` hashes the inputs (interpreter and version, packages, SDK and init sources), so a change rebuilds it. It is
built once (`mac setup`, or lazily on first use under a file lock), bytecode precompiled (the venv is read-only
inside), world-readable, and never shares the controller's own site-packages. The interpreter must live under a
prefix other users can traverse: $MAC_SANDBOX_PYTHON, else the controller's base interpreter if it qualifies,
else /usr/bin/python3 (a pyenv under a 0700 home does not qualify: the sandbox uid could not even start it).
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import mac
from mac.errors import SandboxError
from mac.paths import runtime_home
from mac.sandbox.snapshot import content_hash

RUNTIME_FORMAT = 1
BASE_PACKAGES = ("openai>=1.30",)
MIN_PYTHON = (3, 11)
SANDBOX_UID = 1000
"""The uid (and gid) the sandboxed process sees; bwrap maps it to the slot's host uid."""
_ETC = {
    "passwd": f"root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:{SANDBOX_UID}:{SANDBOX_UID}:MAC sandbox:/tmp:/bin/sh\n"
              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "group": f"root:x:0:\nsandbox:x:{SANDBOX_UID}:\nnogroup:x:65534:\n",
    "hosts": "127.0.0.1 localhost sandbox\n::1 localhost ip6-localhost\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
}


@dataclass(frozen=True)
class Interpreter:
    path: Path
    prefix: Path
    """sys.base_prefix of the interpreter: bound read-only into sandboxes unless it is under /usr."""
    version: str


@dataclass(frozen=True)
class Runtime:
    root: Path
    key: str
    interpreter: Interpreter
    packages: tuple[str, ...]

    @property
    def prefix(self) -> Path:
        return self.root / "venv"

    @property
    def python(self) -> Path:
        return self.prefix / "bin" / "python"

    @property
    def init(self) -> Path:
        return self.root / "libexec" / "mac_init.py"

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def binds(self) -> list[Path]:
        """Host folders a sandbox needs read-only at the same path."""
        extra = [] if _under(self.interpreter.prefix, Path("/usr")) else [self.interpreter.prefix]
        return [self.root, *extra]

    def describe(self) -> dict:
        return {"path": str(self.root), "python": str(self.interpreter.path), "version": self.interpreter.version,
                "packages": list(self.packages)}


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def others_can_reach(path: Path) -> bool:
    """Whether an unrelated uid can traverse to `path` and read it (every folder on the way is o+x)."""
    path = Path(os.path.realpath(path))
    for folder in [*reversed(path.parents), path] if path.is_dir() else reversed(path.parents):
        try:
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    try:
        return bool(os.stat(path).st_mode & stat.S_IROTH)
    except OSError:
        return False


@functools.lru_cache(maxsize=8)
def _probe(python: str) -> Interpreter | None:
    try:
        out = subprocess.run([python, "-I", "-S", "-c", "import sys; print(sys.base_prefix); print(sys.version.split()[0])"],
                             capture_output=True, text=True, timeout=20, env={}).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return None
    if len(out) < 2 or not out[1]:
        return None
    version = out[1].strip()
    if tuple(int(x) for x in version.split(".")[:2]) < MIN_PYTHON:
        return None
    return Interpreter(Path(python), Path(out[0].strip()), version)


def find_interpreter() -> Interpreter:
    """The interpreter sandboxes use; raises SandboxError naming the fix when none qualifies."""
    explicit = os.environ.get("MAC_SANDBOX_PYTHON")
    candidates = [explicit] if explicit else [
        str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"),
        "/usr/bin/python3", "/usr/local/bin/python3"]
    tried = []
    for candidate in candidates:
        found = _probe(candidate) if Path(candidate).exists() else None
        if found and others_can_reach(found.path) and others_can_reach(found.prefix / "lib"):
            return found
        tried.append(candidate)
    raise SandboxError(
        f"no Python >= {'.'.join(map(str, MIN_PYTHON))} that sandbox uids can run (tried {', '.join(tried)}; an "
        "interpreter under a 0700 home such as pyenv's does not qualify): install one under a world-readable "
        "prefix (e.g. `apt-get install python3 python3-venv`) or set MAC_SANDBOX_PYTHON=/path/to/python3")


def sdk_source() -> Path:
    return Path(mac.__file__).resolve().parent / "sdk"


def _key(interp: Interpreter, packages: tuple[str, ...]) -> str:
    inputs = {"format": RUNTIME_FORMAT, "python": str(interp.path), "version": interp.version,
              "packages": list(packages), "sdk": content_hash(sdk_source()),
              "init": content_hash(Path(__file__).with_name("init.py")), "etc": _ETC}
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:20]


def _packages(extra: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(sorted(set(BASE_PACKAGES) | set(extra)))


def runtime_for(packages: tuple[str, ...] | list[str] = ()) -> Runtime:
    """The runtime these packages would use (built or not)."""
    interp = find_interpreter()
    pkgs = _packages(packages)
    key = _key(interp, pkgs)
    return Runtime(runtime_home() / key, key, interp, pkgs)


def is_ready(runtime: Runtime) -> bool:
    return (runtime.root / "READY").is_file()


def ensure_runtime(packages: tuple[str, ...] | list[str] = (), *, rebuild: bool = False,
                   log=None) -> Runtime:
    """The runtime for `packages` (plus openai), building it under a file lock if missing. Blocking."""
    runtime = runtime_for(packages)
    if is_ready(runtime) and not rebuild:
        return runtime
    home = runtime_home()
    home.mkdir(parents=True, exist_ok=True)
    _make_reachable(home)
    with open(home / f".lock-{runtime.key}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent first use waits here, then finds it READY
        if is_ready(runtime) and not rebuild:
            return runtime
        _build(runtime, log or (lambda msg: None))
    return runtime


async def ensure_runtime_async(packages: tuple[str, ...] | list[str] = ()) -> Runtime:
    return await asyncio.to_thread(ensure_runtime, packages)


def prune_runtimes(keep: list[Runtime]) -> list[Path]:
    """Remove built runtimes other than `keep` (older SDKs or package sets). Sandboxes using them would break,
    so only call this when none run (`mac setup --prune`)."""
    keep_roots = {r.root for r in keep}
    removed = []
    for ready in sorted(runtime_home().glob("*/READY")):
        if ready.parent not in keep_roots:
            shutil.rmtree(ready.parent, ignore_errors=True)
            removed.append(ready.parent)
    return removed


def load_runtime(prefix: Path) -> Runtime:
    """The runtime whose venv is `prefix` (SandboxSpec.runtime); raises SandboxError if it is not a built one."""
    root = Path(prefix).parent
    ready = root / "READY"
    if not ready.is_file():
        raise SandboxError(f"{prefix} is not a built sandbox runtime: use mac.sandbox.runtime.ensure_runtime() "
                           "or `mac setup`")
    info = json.loads(ready.read_text())
    interp = Interpreter(Path(info["python"]), Path(info["prefix"]), info["version"])
    return Runtime(root, root.name, interp, tuple(info["packages"]))


def _make_reachable(folder: Path) -> None:
    """Make the runtime home itself traversable and readable by sandbox uids."""
    mode = folder.stat().st_mode
    if not mode & stat.S_IXOTH:
        folder.chmod(stat.S_IMODE(mode) | 0o055)


def _build(runtime: Runtime, log) -> None:
    root = runtime.root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    try:
        log(f"creating the venv at {runtime.prefix} with {runtime.interpreter.path} ({runtime.interpreter.version})")
        _create_venv(runtime)
        site = _site_packages(runtime)
        _install_sdk(site)
        log(f"installing {', '.join(runtime.packages)}")
        _install_packages(runtime)
        _compile(runtime, site)
        (root / "libexec").mkdir()
        shutil.copyfile(Path(__file__).with_name("init.py"), runtime.init)
        runtime.etc.mkdir()
        for name, text in _ETC.items():
            (runtime.etc / name).write_text(text)
        _chmod_world_readable(root)
        info = {"python": str(runtime.interpreter.path), "prefix": str(runtime.interpreter.prefix),
                "version": runtime.interpreter.version, "packages": list(runtime.packages), "format": RUNTIME_FORMAT}
        (root / "READY").write_text(json.dumps(info))
        (root / "READY").chmod(0o644)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def find_uv() -> str | None:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    # copies, not hard links into the controller's private uv cache (whose modes the chmod below would change)
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_LINK_MODE": "copy", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)


def _create_venv(runtime: Runtime) -> None:
    uv = find_uv()
    if uv:
        done = _run([uv, "venv", "--quiet", "--python", str(runtime.interpreter.path), str(runtime.prefix)])
        if done.returncode == 0:
            return
    done = _run([str(runtime.interpreter.path), "-m", "venv", "--without-pip", str(runtime.prefix)])
    if done.returncode != 0:
        raise SandboxError(f"cannot create the sandbox venv with {runtime.interpreter.path}: "
                           f"{done.stderr.strip()[-500:]}; install python3-venv or set MAC_SANDBOX_PYTHON")


def _site_packages(runtime: Runtime) -> Path:
    found = sorted(runtime.prefix.glob("lib/python3*/site-packages"))
    if not found:
        raise SandboxError(f"the venv at {runtime.prefix} has no site-packages; remove it and run `mac setup`")
    return found[0]


def _install_sdk(site: Path) -> None:
    """mac/__init__.py (minimal), mac/sdk/** and the MAC compatibility modules at top level."""
    (site / "mac").mkdir()
    (site / "mac" / "__init__.py").write_text('"""MAC inside a sandbox: only the artifact SDK (mac.sdk)."""\n')
    shutil.copytree(sdk_source(), site / "mac" / "sdk", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for module in (sdk_source() / "compat").glob("*.py"):
        if module.name != "__init__.py":
            shutil.copyfile(module, site / module.name)


def _install_packages(runtime: Runtime) -> None:
    uv = find_uv()
    python = str(runtime.python)
    attempts = []
    if uv:
        base = [uv, "pip", "install", "--quiet", "--python", python, "--compile-bytecode", *runtime.packages]
        attempts += [base, [*base, "--offline"]]
    attempts.append([sys.executable, "-m", "pip", "install", "--quiet", "--python", python, *runtime.packages])
    errors = []
    for argv in attempts:
        done = _run(argv)
        if done.returncode == 0:
            return
        errors.append(done.stderr.strip()[-400:])
    raise SandboxError(
        f"cannot install {', '.join(runtime.packages)} into the sandbox runtime ({errors[0] or errors[-1]}): it "
        "needs the package index once (PyPI, or UV_INDEX_URL/PIP_INDEX_URL), or a uv cache that has them; run "
        "`mac setup` where the index is reachable")


def _compile(runtime: Runtime, site: Path) -> None:
    targets = [str(site / "mac"), *(str(p) for p in site.glob("*.py"))]
    done = _run([str(runtime.python), "-m", "compileall", "-q", *targets])
    if done.returncode != 0:
        raise SandboxError(f"cannot precompile the sandbox SDK: {done.stdout.strip()[-400:]}")


def _chmod_world_readable(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                mode = stat.S_IMODE(os.lstat(path).st_mode)
                os.chmod(path, 0o755 if mode & 0o111 else 0o644)
