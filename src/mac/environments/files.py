"""Helpers shared by environment backends: transfers between host and environment (bounded, and never
following a link planted inside on the way back), envd's request and answer shapes, the image's user."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
from pathlib import Path

from mac.environments.client import decode as _decode
from mac.environments.base import ExecResult
from mac.environments.unpack import LayerApplier, Limits
from mac.errors import EnvError

TRANSFER_MAX = 128 << 20
"""Largest single upload or download."""
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def decode(reply: dict) -> bytes:
    return _decode(reply, TRANSFER_MAX)


def read_host_file(path: Path) -> bytes:
    if path.stat().st_size > TRANSFER_MAX:
        raise EnvError(f"{path} is larger than the transfer cap ({TRANSFER_MAX >> 20} MiB)")
    return path.read_bytes()


def tar_host_dir(folder: Path) -> bytes:
    if not folder.is_dir():
        raise EnvError(f"{folder} is not a folder")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for entry in sorted(os.listdir(folder)):
            tar.add(folder / entry, arcname=entry)
    if buffer.tell() > TRANSFER_MAX:
        raise EnvError(f"{folder} is larger than the transfer cap ({TRANSFER_MAX >> 20} MiB)")
    return buffer.getvalue()


def write_host_file(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def untar_to_host(data: bytes, target: Path) -> list[tuple[str, str]]:
    """Unpack an archive that came out of an environment: files and folders only, nothing outside `target`."""
    target.mkdir(parents=True, exist_ok=True)
    applier = LayerApplier(str(target), None, Limits(max_bytes=TRANSFER_MAX * 4, max_entries=200_000), image=False)
    try:
        applier.apply(io.BytesIO(data))
    finally:
        applier.close()
    return applier.stats.skipped


def read_inside(root: Path, rel: str, limit: int = 1 << 20) -> bytes | None:
    """A file of a rootfs read without following any symlink (its own or a parent's); None if absent."""
    parts = [p for p in rel.strip("/").split("/") if p]
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nxt
        leaf = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    with os.fdopen(leaf, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return None
        return fh.read(limit)


def resolve_user(rootfs: Path, user: str) -> tuple[int, int, str]:
    """(uid, gid, home) for an image's USER ("", "name", "uid", "name:group", "uid:gid")."""
    name, _, group = (user or "root").partition(":")
    passwd = (read_inside(rootfs, "etc/passwd") or b"").decode("utf-8", "replace")
    # The image's passwd is untrusted: entries whose ids are not plain numbers are ignored.
    entries = [e for e in (line.split(":") for line in passwd.splitlines() if line.count(":") >= 6)
               if _number(e[2]) is not None and _number(e[3]) is not None]
    match = next((e for e in entries if e[0] == name or (_number(name) is not None and e[2] == name)), None)
    if match is None and _number(name) is None and name != "root":
        raise EnvError(f"the image's user {name!r} is not in its /etc/passwd: set a uid, e.g. user = \"1000\"")
    uid = int(match[2]) if match else (0 if name == "root" else int(name))
    gid = int(match[3]) if match else uid
    if _number(group) is not None:
        gid = int(group)
    home = match[5] if match else ("/root" if uid == 0 else "/")
    return uid, gid, home


def write_config(ctl: Path, *, env: dict[str, str], workdir: str, output_bytes: int,
                 relays: list[tuple[int, str]]) -> None:
    config = {"env": env, "workdir": workdir, "output_bytes": output_bytes, "relays": relays}
    (ctl / "config.json").write_text(json.dumps(config))


def libexec(cache_root: Path) -> Path:
    """envd and the relay module, copied once under the cache (world-readable: the sandbox uid runs them)."""
    sources = {"envd.py": Path(__file__).with_name("envd.py"),
               "mac_init.py": Path(__file__).parent.parent / "sandbox" / "init.py"}
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources.values())).hexdigest()[:16]
    folder = cache_root / "libexec" / digest
    if not (folder / "envd.py").is_file():
        staging = cache_root / "libexec" / f".{digest}-{os.getpid()}"
        staging.mkdir(parents=True, exist_ok=True)
        for name, source in sources.items():
            shutil.copyfile(source, staging / name)
            (staging / name).chmod(0o644)
        staging.chmod(0o755)
        (cache_root / "libexec").chmod(0o755)
        try:
            staging.rename(folder)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def exec_request(command: str | list[str], *, cwd: str | None, env: dict[str, str] | None, timeout: float | None,
                 stdin: bytes | None) -> dict:
    request: dict = {"op": "exec", "cwd": cwd, "env": env or {}, "timeout": timeout}
    if isinstance(command, str):
        request["command"] = command
    else:
        request["argv"] = [str(a) for a in command]
    if stdin is not None:
        request["stdin"] = b64(stdin)
    return request


def exec_result(reply: dict, limit: int, wall: float) -> ExecResult:
    """envd's answer, checked: types, and output no longer than the cap (envd is as untrusted as the image)."""
    code = reply.get("returncode")
    if code is not None and not isinstance(code, int):
        raise EnvError("the environment answered a non-integer exit code")
    out, err = str(reply.get("stdout", "")), str(reply.get("stderr", ""))
    return ExecResult(returncode=code, stdout=out[:limit], stderr=err[:limit],
                      stdout_truncated=bool(reply.get("stdout_truncated")) or len(out) > limit,
                      stderr_truncated=bool(reply.get("stderr_truncated")) or len(err) > limit,
                      timed_out=bool(reply.get("timed_out")), wall_sec=wall)


def _number(text: str) -> int | None:
    """A uid or gid written in ASCII digits (str.isdigit alone also accepts "²", which int() refuses)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None
