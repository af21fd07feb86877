"""Domain data in the user data dir: import files after validating them, see what is there.

    $MAC_DATA/                      (default: the platform's user data dir, `mac.paths.data_home()`)
      aime/dev.jsonl  aime/test.jsonl
      science/dev.jsonl  science/test.jsonl

Folders are private (0700, files 0600): they hold answers, and sandbox users must not read them.
A domain is replaced as a whole (written beside, then renamed), so a failed import never leaves half a domain.
`mac data pull` (mac.domains.hub) converts the public sets and installs them with `install_rows`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from mac.domains.base import SPLITS, Domain, get_domain, read_jsonl
from mac.errors import ConfigError, DataError, MacError
from mac.records import Record


class DataStatus(BaseModel):
    """What `mac data list` shows for one domain."""

    domain: str
    folder: str
    source: str
    """"user data dir", "generated" (arith), the domain's built-in data (lcb's fixtures) or "missing"."""
    counts: dict[str, int] = {}
    error: str | None = None


def import_files(name: str, dev: Path, test: Path, *, root: Path | None = None, force: bool = False) -> Path:
    """Validate `dev` and `test` for domain `name`, then copy them into the data dir. Returns the domain folder."""
    domain = _importable(name)
    dev_records = domain.validate_records(read_jsonl(Path(dev)), str(dev))
    test_records = domain.validate_records(read_jsonl(Path(test)), str(test))
    check_unique_ids(dev_records, str(dev))
    check_unique_ids(test_records, str(test))
    check_disjoint(dev_records, test_records, str(test))
    return _install(name, {"dev": Path(dev).read_bytes(), "test": Path(test).read_bytes()}, root, force)


def install_rows(name: str, splits: dict[str, list[dict[str, Any]]], *, root: Path | None = None,
                 force: bool = False) -> Path:
    """Validate converted rows like files, then write them as the domain's JSONL files."""
    domain = _importable(name)
    records = {}
    for split in SPLITS:
        label = f"{name}/{split}.jsonl (converted)"
        records[split] = domain.validate_records(list(enumerate(splits[split], 1)), label)
        check_unique_ids(records[split], label)
    check_disjoint(records["dev"], records["test"], f"{name}/test.jsonl (converted)")
    payload = {s: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in splits[s]).encode() for s in SPLITS}
    return _install(name, payload, root, force)


def check_unique_ids(records: list[Record], file: str) -> None:
    """Each record of a split has its own id: reports, audits and answer tables tell problems apart by it."""
    first: dict[str, int] = {}
    for line, record in enumerate(records, 1):
        if record.id in first:
            raise DataError(f"duplicate id {record.id!r} (first on record {first[record.id]}): every record of a "
                            "split needs its own id", file=file, line=line, field="id")
        first[record.id] = line


def check_disjoint(dev: list[Record], test: list[Record], test_file: str) -> None:
    """The test split must be held out: no test question may also be a dev question."""
    seen = {" ".join(r.question.split()) for r in dev}
    for line, record in enumerate(test, 1):
        if " ".join(record.question.split()) in seen:
            raise DataError(f"test record {record.id!r} repeats a dev question; the test split must be held out",
                            file=test_file, line=line, field="question")


def status(name: str, root: Path | None = None) -> DataStatus:
    """Where `name`'s data comes from and how many records each split has (or why it cannot load)."""
    from mac.paths import data_home

    domain = get_domain(name)
    folder = (root or data_home()) / name
    if domain.generated:
        counts = {s: len(domain.load(s)) for s in SPLITS}
        return DataStatus(domain=name, folder="(built in)", source="generated", counts=counts)
    if not folder.is_dir() and domain.builtin_data:
        counts = {s: len(domain.load(s)) for s in SPLITS}
        return DataStatus(domain=name, folder=str(folder), source=domain.builtin_data, counts=counts)
    if not folder.is_dir():
        return DataStatus(domain=name, folder=str(folder), source="missing")
    try:
        counts = {s: len(domain.load(s, folder)) for s in SPLITS}
    except MacError as exc:
        return DataStatus(domain=name, folder=str(folder), source="user data dir", error=str(exc))
    return DataStatus(domain=name, folder=str(folder), source="user data dir", counts=counts)


def _importable(name: str) -> Domain:
    domain = get_domain(name)
    if domain.generated:
        raise ConfigError(f"domain {name!r} is generated and needs no data; to use your own files instead, "
                          f"pass --data DIR (a folder with dev.jsonl and test.jsonl) to the command")
    return domain


def _install(name: str, files: dict[str, bytes], root: Path | None, force: bool) -> Path:
    with staging_folder(name, root, force) as staging:
        for split, data in files.items():
            target = staging / f"{split}.jsonl"
            target.write_bytes(data)
            target.chmod(0o600)
        return install_folder(name, staging, root, force)


@contextlib.contextmanager
def staging_folder(name: str, root: Path | None, force: bool) -> Iterator[Path]:
    """A private folder beside the data dir to build a domain in; removed unless `install_folder` moved it."""
    from mac.paths import data_home

    root = Path(root) if root is not None else data_home()
    if (root / name).exists() and not force:
        raise ConfigError(f"{root / name} already exists; pass --force to replace it")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        yield staging
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def install_folder(name: str, staging: Path, root: Path | None, force: bool) -> Path:
    """Replace the domain's folder by `staging` (made private first), as a whole."""
    from mac.paths import data_home

    root = Path(root) if root is not None else data_home()
    dest = root / name
    if dest.exists() and not force:
        raise ConfigError(f"{dest} already exists; pass --force to replace it")
    staging.chmod(0o700)
    old = None
    if dest.exists():
        old = root / f".{name}-old-{os.getpid()}"
        dest.rename(old)
    staging.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return dest
