"""`mac data pull lcb` on a local stand-in for the hub: six test*.jsonl files laid out and encoded like the hub's
code_generation_lite. The stand-in replaces only the download; checking, decoding, converting, splitting and
installing are the real code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from test_lcb import MARKER, Payload, encode, lcb_row

from mac.domains import get_domain
from mac.domains.hub import pull
from mac.domains.hub_lcb import FILES, REPO
from mac.domains.lcb_grading import all_tests
from mac.errors import ConfigError, DataError


class LcbFolderHub:
    """The dataset repo as a folder; `damaged` names files whose first download arrives corrupted."""

    def __init__(self, root: Path, damaged: tuple[str, ...] = (), always_damaged: bool = False):
        self.root, self.damaged, self.always_damaged = root, set(damaged), always_damaged
        self.downloads: list[tuple[str, bool]] = []

    def download(self, repo_id: str, name: str, *, force: bool = False) -> Path:
        self.downloads.append((name, force))
        source = self.root / repo_id / name
        if name in self.damaged and (self.always_damaged or not force):
            copy = self.root / "damaged" / name
            copy.parent.mkdir(exist_ok=True)
            copy.write_bytes(source.read_bytes()[:-5] + b"xxxxx")
            return copy
        return source

    def sha256(self, repo_id: str, names: list[str]) -> dict[str, str]:
        return {n: hashlib.sha256((self.root / repo_id / n).read_bytes()).hexdigest() for n in names}

    def revision(self, repo_id: str) -> str:
        return "0123abcd"


def make_hub(root: Path, extra_rows: dict[str, list[dict]] | None = None) -> LcbFolderHub:
    """Two problems per file, dates on both sides of MAC's window; test6 also holds a call-based problem."""
    dates = {"test.jsonl": ("2023-05-06", "2023-06-10"), "test2.jsonl": ("2023-09-02", "2024-01-13"),
             "test3.jsonl": ("2024-03-02", "2024-07-31"), "test4.jsonl": ("2024-08-01", "2024-08-03"),
             "test5.jsonl": ("2024-11-16", "2025-01-31"), "test6.jsonl": ("2025-02-01", "2025-03-08")}
    for name in FILES:
        rows = [lcb_row(f"{name[:-6]}_{k}", date=f"{day}T00:00:00") for k, day in enumerate(dates[name])]
        if name == "test6.jsonl":
            rows.append(lcb_row("3500", date="2024-12-01T00:00:00", platform="leetcode",
                                metadata=json.dumps({"func_name": "add"}),
                                public_test_cases=json.dumps([{"input": "1\n2", "output": "3", "testtype": "functional"}]),
                                private_test_cases=encode(json.dumps([{"input": "5\n5", "output": "10",
                                                                       "testtype": "functional"}]))))
        rows += (extra_rows or {}).get(name, [])
        path = root / REPO / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return LcbFolderHub(root)


def test_pull_builds_macs_split_with_private_tests_in_files(tmp_path):
    hub = make_hub(tmp_path / "hub")
    seen = []
    folder = pull("lcb", hub=hub, root=tmp_path / "data", progress=lambda stage, done, total: seen.append(stage))
    lcb = get_domain("lcb")
    dev, test = lcb.load("dev", folder), lcb.load("test", folder)
    # 2024-08-01 and 2025-02-01 are outside the window (both ends excluded), as in MAC's prepare script
    assert [r.id for r in test] == ["test4_1", "test5_0", "3500", "test5_1"]
    assert [r.id for r in dev][:2] == ["test_0", "test_1"] and "test4_0" in [r.id for r in dev]
    assert "test6_0" in [r.id for r in dev] and len(dev) + len(test) == 13
    call = next(r for r in test if r.id == "3500")
    assert call.extra["fn_name"] == "add" and all_tests(call)[-1] == {"input": "5\n5", "output": "10",
                                                                      "testtype": "functional"}
    assert (folder / "tests" / "3500.json").stat().st_mode & 0o077 == 0 and folder.stat().st_mode & 0o077 == 0
    assert '"private_tests":' not in (folder / "test.jsonl").read_text()  # only the file names
    source = json.loads((folder / "source.json").read_text())
    assert source["revision"] == "0123abcd" and source["counts"] == {"dev": 9, "test": 4}
    assert set(source["files"]) == set(FILES) and "2024-08-01 < contest_date < 2025-02-01" in source["split_rule"]
    assert {s.split()[0] for s in seen} == {"check", "convert"}
    with pytest.raises(ConfigError, match="--force"):
        pull("lcb", hub=hub, root=tmp_path / "data")


def test_a_damaged_download_is_fetched_again_then_refused(tmp_path):
    hub = make_hub(tmp_path / "hub")
    hub.damaged = {"test3.jsonl"}
    pull("lcb", hub=hub, root=tmp_path / "data")
    assert ("test3.jsonl", True) in hub.downloads and ("test.jsonl", True) not in hub.downloads
    hub.always_damaged = True
    with pytest.raises(DataError, match="test3.jsonl does not match the hub's sha256"):
        pull("lcb", hub=hub, root=tmp_path / "other")
    assert not (tmp_path / "other" / "lcb").exists()


def test_a_malicious_pickle_in_the_download_is_refused_and_nothing_is_installed(tmp_path):
    MARKER.unlink(missing_ok=True)
    evil = lcb_row("evil_1", private_test_cases=encode(Payload()))
    hub = make_hub(tmp_path / "hub", {"test2.jsonl": [evil]})
    with pytest.raises(DataError, match="test2.jsonl:3.*refused global"):
        pull("lcb", hub=hub, root=tmp_path / "data")
    assert not MARKER.exists() and not (tmp_path / "data" / "lcb").exists()
    assert [p.name for p in (tmp_path / "data").iterdir()] == []  # the staging folder is gone too


def test_duplicate_question_ids_are_refused(tmp_path):
    hub = make_hub(tmp_path / "hub", {"test5.jsonl": [lcb_row("test_0")]})
    with pytest.raises(DataError, match="'test_0' appears twice"):
        pull("lcb", hub=hub, root=tmp_path / "data")
