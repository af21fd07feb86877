"""The secret seed of a generated test split: held by the controller, never seen by a sandbox.

A domain that generates its splits from public code (`arith`) would hand its test split to any artifact that
carries the generator. So its test problems come from a seed only the controller holds, kept in a *seed file*:

- per install: `<secrets_home>/<domain>-test-seed` (`$MAC_SECRETS`, by default beside the user data dir),
  created on first use with 256 random bits, mode 0600, outside every sandbox (no sandbox binds it, and the
  sandbox uids could not read it anyway);
- pinned: `--test-seed-file FILE` (`mac run`, `mac eval`, `mac baseline`) uses FILE, creating it the same way
  when it does not exist yet. Keep it to regenerate the same test split elsewhere (published numbers need it).

Results record the seed file's path and a fingerprint of its value (`fingerprint`), never the value itself.
`mac verify` reopens the recorded file and refuses when its fingerprint changed. The dev split stays public.

    seed = seed_for(domain, data=None, path=None)               # SeedFile, or None for file-based splits
    records = domain.load("test", seed=seed)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mac.errors import ConfigError

MIN_SEED_CHARS = 16
"""A seed this short could be guessed from its fingerprint; generated seeds have 64 hex digits."""
MAX_SEED_BYTES = 4096


@dataclass(frozen=True)
class SeedFile:
    """A seed file that was read: where it is, the fingerprint results record, and the value (never printed)."""

    path: Path
    fingerprint: str
    value: str = field(repr=False)


def fingerprint(value: str) -> str:
    """16 hex digits that identify a seed value without revealing it (domain-separated sha256)."""
    return hashlib.sha256(b"mac-test-seed-fingerprint\0" + value.encode()).hexdigest()[:16]


def default_seed_path(domain: str) -> Path:
    from mac.paths import secrets_home

    return secrets_home() / f"{domain}-test-seed"


def seed_for(domain: Any, data: Path | None = None, path: Path | str | None = None, *,
             expect: str | None = None) -> SeedFile | None:
    """The seed of `domain`'s test split (a mac.domains.Domain), or None when its test split is a file.

    `path` pins the seed file (None: the install's own, created on first use); `expect` is a recorded
    fingerprint that the file must still have. Raises ConfigError naming the fix otherwise."""
    if not getattr(domain, "secret_test_seed", False) or data is not None:
        if path is not None:
            why = "reads its test split from --data" if data is not None else "has no generated test split"
            raise ConfigError(f"--test-seed-file is for generated test splits (arith); domain {domain.name!r} {why}")
        return None
    target = Path(path).expanduser() if path is not None else default_seed_path(domain.name)
    seed = open_seed(target)
    if expect is not None and seed.fingerprint != expect:
        raise ConfigError(f"the test seed file {target} has fingerprint {seed.fingerprint}, but this was recorded "
                          f"with {expect}: the test split would differ. Restore the seed file it was run with "
                          "(or pass it with --test-seed-file)")
    return seed


def open_seed(path: Path, *, create: bool = True) -> SeedFile:
    """Read (or first create) a seed file. It must be private to this user (no group/other permissions)."""
    if create and not path.exists():
        _create(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigError(f"cannot read the test seed file {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        raw = os.read(fd, MAX_SEED_BYTES + 1)
    finally:
        os.close(fd)
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"the test seed file {path} is not a regular file")
    if st.st_mode & 0o077:
        raise ConfigError(f"the test seed file {path} is readable by others (mode {stat.S_IMODE(st.st_mode):o}): "
                          f"run chmod 600 {path}")
    value = raw.decode("utf-8", errors="replace").strip()
    if len(raw) > MAX_SEED_BYTES or len(value) < MIN_SEED_CHARS:
        raise ConfigError(f"the test seed file {path} must hold one secret of {MIN_SEED_CHARS} to {MAX_SEED_BYTES} "
                          "characters; delete it to have a random one created")
    return SeedFile(path=path, fingerprint=fingerprint(value), value=value)


def _create(path: Path) -> None:
    """Write a fresh random seed, 0600, atomically: a concurrent first use keeps whichever file landed first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".seed-", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process created it meanwhile: theirs wins
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
