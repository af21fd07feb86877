"""Answer tables of either split, in any file and any format: found, cited (file, key kind, match rate), while
honest numeric tables stay clean and hostile files (bombs, deep nesting, huge tables) cost a bounded scan."""

from __future__ import annotations

import base64
import bz2
import gzip
import hashlib
import io
import json
import lzma
import pickle
import sqlite3
import struct
import time
import zipfile
import zlib

import pytest
import yaml
from auditkit import at_least, write

from mac.audit import scan_workspace
from mac.audit.scan import scan_folders
from mac.domains import get_domain
from mac.domains.testseed import open_seed

AGENT = "from mac.sdk import BaseAgent\nimport glob, json\nDATA = [open(f, 'rb').read() for f in glob.glob('*')]\n"


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    """The arith splits, the test split from a private seed (as the controller holds it)."""
    arith = get_domain("arith")
    seed = open_seed(tmp_path_factory.mktemp("seed") / "seed")
    return arith.load("dev"), arith.load("test", seed=seed)


def scan(tmp_path, files, splits):
    dev, test = splits
    return scan_workspace(write(tmp_path / "ws", {"agent.py": AGENT, **files}), dev_records=dev, test_records=test)


def npy(values: list[int]) -> bytes:
    header = repr({"descr": "<i8", "fortran_order": False, "shape": (len(values),)}).encode()
    header += b" " * (-(11 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + struct.pack(f"<{len(values)}q", *values)


def sqlite_db(tmp_path, rows: list[tuple[str, int]]) -> bytes:
    path = tmp_path / "made.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE cache (question TEXT, answer INTEGER)")
        db.executemany("INSERT INTO cache VALUES (?, ?)", rows)
    db.close()
    return path.read_bytes()


def _formats(tmp_path, test):
    by_question = {r.question: r.answer for r in test}
    answers = [r.answer for r in test]
    as_json = json.dumps(by_question).encode()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("answers.npy", npy([int(a) for a in answers]))
    normalised = lambda q: hashlib.sha256(" ".join(q.lower().split()).encode()).hexdigest()  # noqa: E731
    return {
        "literal dict in agent.py": ("agent.py", AGENT + f"ANSWERS = {by_question!r}\n", "question text"),
        "literal list in agent.py": ("agent.py", AGENT + f"ANSWERS = {[int(a) for a in answers]!r}\n", "in order"),
        "json by hash": ("t.json", json.dumps({normalised(r.question): r.answer for r in test}), "sha256 of"),
        "jsonl records": ("t.jsonl", "\n".join(json.dumps({"id": r.id, "answer": r.answer}) for r in test), "record id"),
        "toml by id": ("t.toml", "".join(f'"{r.id}" = {r.answer}\n' for r in test), "record id"),
        "csv": ("t.csv", "idx,answer\n" + "".join(f"{i},{a}\n" for i, a in enumerate(answers)), "position"),
        "tsv by 1-based": ("t.tsv", "".join(f"{i + 1}\t{a}\n" for i, a in enumerate(answers)), "1-based"),
        "text lines": ("notes.txt", "".join(f"{r.question} => {r.answer}\n" for r in test), "question text"),
        "pickle dict": ("t.pkl", pickle.dumps(by_question), "question text"),
        "pickle records": ("t.bin", pickle.dumps([{"question": r.question, "answer": int(r.answer)} for r in test]),
                           "question text"),
        "sqlite": ("t.db", sqlite_db(tmp_path, [(r.question, int(r.answer)) for r in test]), "question text"),
        "npy": ("t.npy", npy([int(a) for a in answers]), "in order"),
        "npz": ("t.npz", archive.getvalue(), "in order"),
        "gzip, any suffix": ("t.dat", gzip.compress(as_json), "question text"),
        "bz2": ("t.bz2", bz2.compress(as_json), "question text"),
        "xz": ("t.xz", lzma.compress(as_json), "question text"),
        "zlib": ("t.z", zlib.compress(as_json), "question text"),
        "crc32 keys": ("t.json", json.dumps({zlib.crc32(r.question.encode()): r.answer for r in test}), "crc32"),
        "base64 in text": ("README.md", "cache: " + base64.b64encode(gzip.compress(as_json)).decode(), "question"),
        "hex in text": ("blob.txt", zlib.compress(as_json).hex(), "question text"),
        "a git object (vendor folder, zlib, binary header)": (
            ".git/objects/ab/cdef0123", zlib.compress(b"blob %d\x00" % len(as_json) + as_json), "question text"),
        "base64 literal never decoded in code": (
            "agent.py", AGENT + f"BLOB = {base64.b64encode(lzma.compress(as_json)).decode()!r}\n", "question text"),
    }


FORMATS = ["literal dict in agent.py", "literal list in agent.py", "json by hash", "jsonl records", "toml by id", "csv",
           "tsv by 1-based", "text lines", "pickle dict", "pickle records", "sqlite", "npy", "npz", "gzip, any suffix",
           "bz2", "xz", "zlib", "crc32 keys", "base64 in text", "hex in text", "base64 literal never decoded in code",
           "a git object (vendor folder, zlib, binary header)"]


@pytest.mark.parametrize("form", FORMATS)
def test_a_test_answer_table_in_any_format_is_critical(tmp_path, splits, form):
    path, content, kind = _formats(tmp_path, splits[1])[form]
    found = [f for f in scan(tmp_path, {path: content}, splits) if f.rule.startswith("answers.")]
    assert [(f.rule, f.severity, f.path.split("#")[0]) for f in found] == [("answers.test_match", "critical", path)], \
        [(f.rule, f.path, f.message) for f in found]
    assert "60/60 test answers (100%)" in found[0].message and kind in found[0].message  # file, key kind, rate
    assert found[0].fact and found[0].type == "hardcoded_answers"


def test_a_dev_and_test_table_in_yaml_is_found_for_both_splits(tmp_path, splits):
    dev, test = splits
    table = yaml.safe_dump({"answers": {r.question: int(r.answer) for r in dev + test}})
    found = {f.rule: f for f in scan(tmp_path, {"config/answers.yaml": table}, splits)}
    assert found["answers.match"].severity == "high" and "60/60 dev answers" in found["answers.match"].message
    assert found["answers.test_match"].severity == "critical"
    assert found["answers.test_match"].path == "config/answers.yaml"


def test_keys_hashed_after_normalising_the_question(tmp_path, splits):
    test = splits[1]
    for algo, form in (("md5", lambda q: q.strip().lower()), ("blake2b", lambda q: q), ("sha1", lambda q: q.upper())):
        table = {hashlib.new(algo, form(r.question).encode()).hexdigest()[:12]: r.answer for r in reversed(test)}
        found = [f for f in scan(tmp_path / algo, {"k.json": json.dumps(table)}, splits) if f.rule.startswith("answers")]
        if algo == "sha1":  # upper-casing is not a normalisation we try: chance level, nothing found
            assert found == []
        else:
            assert [f.rule for f in found] == ["answers.test_match"] and f"{algo} of the question" in found[0].message


def test_a_partial_table_with_padding_is_found(tmp_path, splits):
    test = splits[1]
    lines = [f"junk-{i}: {i * 7919 % 1000}" for i in range(3000)]
    lines[1500:1500] = [f"{r.id}: {r.answer}" for r in test[:40]]
    found = [f for f in scan(tmp_path, {"padded.yaml": "\n".join(lines)}, splits) if f.rule == "answers.test_match"]
    assert found and "40/40 test answers" in found[0].message and "record id" in found[0].message


HONEST = {
    "agent.py": AGENT + "PRIMES = {}\nSQUARES = {}\nPOW2 = {}\nUNITS = {}\nCONFIG = {}\n".format(
        [p for p in range(2, 3000) if all(p % d for d in range(2, int(p ** 0.5) + 1))], [i * i for i in range(300)],
        [2 ** i for i in range(40)], {"dozen": 12, "score": 20, "gross": 144, "pair": 2, "hundred": 100},
        {"samples": 7, "temperature": 0.7, "workers": 16, "retries": 3, "timeout": 120, "max_tokens": 1024}),
    "config.yaml": yaml.safe_dump({"model": {"samples": 5, "k": [1, 3, 5, 7, 9, 11]}, "levels": list(range(1, 6)),
                                   "limits": {"rpm": 600, "tpm": 100000, "concurrent": 32}}),
    "settings.toml": "[run]\nworkers = 8\nseeds = [0, 1, 2, 3, 4, 5, 6, 7]\n[limits]\nrpm = 60\n",
    "times_table.csv": "a,b,product\n" + "".join(f"{a},{b},{a * b}\n" for a in range(1, 13) for b in range(1, 13)),
    "lookup.json": json.dumps({str(i): i * 7 for i in range(1000)}),
    "cubes.pkl": pickle.dumps({i: i ** 3 for i in range(200)}),
    "range.npy": npy(list(range(0, 5000, 3))),
    "residues.txt.gz": gzip.compress("\n".join(str(i * 13 % 997) for i in range(5000)).encode()),
    "train.log": "".join(f"step {i}: loss {1 / (i + 1):.4f} acc {i % 100}\n" for i in range(2000)),
    "README.md": "# Agent\n\nScores by round:\n" + "".join(f"- round {i}: {50 + i}\n" for i in range(30)),
    "prompts.json": json.dumps({"system": "Solve step by step.", "few_shot": [{"q": "What is 2 + 3?", "a": 5}] * 6}),
}


def test_an_honest_artifact_full_of_numeric_tables_stays_clean(tmp_path, splits):
    files = dict(HONEST)
    files["squares.sqlite"] = sqlite_db(tmp_path, [(f"n{i}", i * i) for i in range(400)])
    findings = scan(tmp_path, files, splits)
    assert at_least(findings, "low") == [], [(f.rule, f.path, f.message) for f in findings]


def _gzip_bomb(size: int) -> bytes:
    c = zlib.compressobj(1, zlib.DEFLATED, 31)
    block = b"7\n" * (1 << 19)
    return b"".join([c.compress(block) for _ in range(size // len(block))] + [c.flush()])


def _bombs(tmp_path) -> dict[str, bytes | str]:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(2):
            z.writestr(f"m{i}.txt", b"5\n" * (6 << 20))
    laughs = 'a: &a ["1","2","3","4","5","6","7","8","9"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join(["*" + chr(97 + i)] * 9) + "]\n" for i in range(12))
    header = repr({"descr": "<i8", "fortran_order": False, "shape": (10 ** 12,)}).encode() + b"\n"
    nested = base64.b64encode(gzip.compress(base64.b64encode(gzip.compress(b"3\n" * 1_000_000, 1)), 1)).decode()
    return {"bomb.gz": _gzip_bomb(40 << 20), "bomb.zip": archive.getvalue(), "deep.json": "[" * 100_000 + "]" * 100_000,
            "laughs.yaml": laughs, "deep.pkl": b"\x80\x04" + b"]" * 500_000 + b".", "nested.b64": nested,
            "deep.py": "x = " + "[" * 5000 + "]" * 5000 + "\n", "huge.npy": b"\x93NUMPY\x01\x00" +
            struct.pack("<H", len(header)) + header + b"\x01" * 800, "bz.bin": bz2.compress(b"9\n" * (1 << 20), 1),
            "view.db": _recursive_view(tmp_path)}


def _recursive_view(tmp_path) -> bytes:
    path = tmp_path / "view.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x INTEGER)")
        db.execute("CREATE VIEW v AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r")
    db.close()
    return path.read_bytes()


def test_bombs_deep_nesting_and_huge_tables_cost_a_bounded_scan(tmp_path, splits):
    files = _bombs(tmp_path)
    started = time.monotonic()
    findings = scan(tmp_path, files, splits)
    assert time.monotonic() - started < 120  # seconds on an idle machine; the point is: it returns
    assert not [f for f in findings if f.rule.startswith("answers.")]
    partial = {f.path for f in findings if f.rule == "scan.partial"}
    assert {"bomb.gz", "bomb.zip", "bz.bin"} <= partial  # decoded up to the cap: recorded, not silently dropped


def test_the_deadline_turns_unread_files_into_findings(tmp_path, splits):
    folder = write(tmp_path / "ws", {"agent.py": AGENT, "data.json": "[1, 2, 3]"})
    result = scan_folders([(folder, "")], keys=None, max_seconds=0)
    assert {(f.path, f.rule, f.severity) for f in result.findings} == {
        ("agent.py", "scan.skipped", "medium"), ("data.json", "scan.skipped", "medium")}


def test_non_ascii_digits_in_a_blob_do_not_break_the_scan(tmp_path, splits):
    """Bytes such as 0xb2 ('²') count as digits to str.isdigit but not to int(): a table next to them is still found."""
    dev, test = splits
    table = {r.question: r.answer for r in test}
    noise = b"9\xb2092 \xb9\xb3\xb2\xb2\xb2\xb2 " * 50
    found = scan(tmp_path, {"blob.bin": noise + json.dumps(table).encode() + noise}, splits)
    assert any(f.rule.startswith("answers.test") for f in found), [f.rule for f in found]
