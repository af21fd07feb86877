"""`mac data pull lcb`: LiveCodeBench from the hub's `livecodebench/code_generation_lite`, split as MAC splits it.

Source: the six `test*.jsonl` files of the dataset (`test.jsonl` .. `test6.jsonl`, release_v6 cumulative: 1055
problems from May 2023 to April 2025, about 4.5 GB), all of them as MAC's prepare_datasets.py reads every
`test*.jsonl`. Problems are sorted by (contest_date, source file, question_id) as MAC sorts them (so `first_k`
takes the same first problems) and split by MAC's window (mac.domains.lcb_data.split_of): test when
2024-08-01 < contest_date < 2025-02-01, dev otherwise.

    lcb/
      dev.jsonl  test.jsonl      one row per problem, public tests inline (mac.domains.lcb_data)
      tests/<question_id>.json   each problem's private tests, decoded (plain JSON), read only when judging
      source.json                repo, revision, each file's sha256, the split rule and the counts

Downloads go through huggingface_hub: its own progress bars, its cache (a download cut off resumes where it
stopped; files already fetched are not fetched again), and the sha256 of every file is checked against the hub's
record (a mismatch re-downloads once, then fails). Private tests are decoded with the restricted unpickler,
never `pickle.loads`. The folder is built beside the data dir and renamed into place when complete.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from mac.domains.lcb_data import TEST_WINDOW, row_from_lcb, split_of
from mac.errors import DataError

REPO = "livecodebench/code_generation_lite"
FILES = ("test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl", "test6.jsonl")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as work advances (stage "check NAME", "convert NAME")."""


class LcbHub(Protocol):
    def download(self, repo_id: str, name: str, *, force: bool = False) -> Path:
        """A local copy of one file of the dataset repo (cached; `force` fetches it again)."""

    def sha256(self, repo_id: str, names: list[str]) -> dict[str, str]:
        """The hub's sha256 of each file (its LFS object id)."""

    def revision(self, repo_id: str) -> str:
        """The commit the files come from."""


def pull_lcb(hub: LcbHub, *, root: Path | None = None, force: bool = False, progress: Progress | None = None) -> Path:
    """Download, verify, convert, validate and install LiveCodeBench. Returns the domain folder."""
    from mac.domains.data import check_disjoint, install_folder, staging_folder
    from mac.domains.lcb import LCB

    progress = progress or (lambda stage, done, total: None)
    revision = hub.revision(REPO)
    expected = hub.sha256(REPO, list(FILES))
    paths = {name: verified(hub, name, expected.get(name), progress) for name in FILES}
    with staging_folder("lcb", root, force) as staging:
        rows = convert(paths, staging / "tests", progress)
        splits = {s: [row for row in rows if split_of(row["contest_date"]) == s] for s in ("dev", "test")}
        domain = LCB()
        records = {}
        for split, split_rows in splits.items():
            path = staging / f"{split}.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in split_rows), encoding="utf-8")
            records[split] = domain.load(split, staging)
        check_disjoint(records["dev"], records["test"], "lcb/test.jsonl (converted)")
        source = {"repo": REPO, "revision": revision, "files": {n: expected.get(n) for n in FILES},
                  "split_rule": f"test if {TEST_WINDOW[0]} < contest_date < {TEST_WINDOW[1]} (days), else dev "
                                "(MAC lcb-meta-agent/scripts/prepare_datasets.py)",
                  "counts": {s: len(v) for s, v in splits.items()}}
        (staging / "source.json").write_text(json.dumps(source, indent=1))
        return install_folder("lcb", staging, root, force)


def verified(hub: LcbHub, name: str, sha256: str | None, progress: Progress) -> Path:
    """The downloaded file, its sha256 checked against the hub's (re-downloaded once on a mismatch)."""
    if not sha256:
        raise DataError(f"the hub lists no sha256 for {REPO}/{name}; the dataset layout changed")
    for attempt in range(2):
        path = hub.download(REPO, name, force=attempt > 0)
        if file_sha256(path, lambda done, total: progress(f"check {name}", done, total)) == sha256:
            return path
    raise DataError(f"{name} does not match the hub's sha256 even after a fresh download: the copy is damaged or "
                    f"the hub changed meanwhile; run `mac data pull lcb` again", file=str(path))


def file_sha256(path: Path, progress: Callable[[int, int], None]) -> str:
    digest, total, done = hashlib.sha256(), path.stat().st_size, 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
            done += len(chunk)
            progress(done, total)
    return digest.hexdigest()


def convert(paths: dict[str, Path], tests_dir: Path, progress: Progress) -> list[dict[str, Any]]:
    """Our rows (private tests written to `tests_dir`), sorted as MAC sorts them. Streams each file by line."""
    tests_dir.mkdir(mode=0o700)
    rows: list[tuple[str, str, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for name, path in paths.items():
        total = path.stat().st_size
        with path.open("rb") as fh:
            for line_no, line in enumerate(fh, 1):
                if line.strip():
                    row = _row(line, name, line_no, tests_dir, seen)
                    rows.append((row["contest_date"], name, row["id"], row))
                if line_no % 20 == 0:
                    progress(f"convert {name}", fh.tell(), total)
        progress(f"convert {name}", total, total)
    rows.sort(key=lambda item: (item[0][:10], item[1], item[2]))  # day, source file, question_id: MAC's order
    return [row for *_, row in rows]


def _row(line: bytes, name: str, line_no: int, tests_dir: Path, seen: set[str]) -> dict[str, Any]:
    try:
        row = row_from_lcb(json.loads(line))
    except (ValueError, RecursionError) as exc:
        raise DataError(f"not a JSON object ({type(exc).__name__})", file=name, line=line_no) from None
    except DataError as exc:
        raise DataError(str(exc), file=name, line=line_no) from None
    if row["id"] in seen:
        raise DataError(f"question_id {row['id']!r} appears twice; MAC requires unique ids", file=name, line=line_no)
    seen.add(row["id"])
    split_of(row["contest_date"])  # a date that does not parse fails here, with the file and line
    target = tests_dir / f"{_UNSAFE.sub('_', row['id'])}.json"
    if target.exists():
        raise DataError(f"question_id {row['id']!r} clashes with another as a file name", file=name, line=line_no)
    target.write_text(json.dumps(row.pop("private_tests")), encoding="utf-8")
    target.chmod(0o600)
    row["private_tests_file"] = f"tests/{target.name}"
    return row
