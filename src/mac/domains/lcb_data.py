"""LiveCodeBench problems as MAC rows: fields, tests, MAC's split, the safe decoder of private tests, the fixtures.

A row of `lcb/dev.jsonl` / `lcb/test.jsonl` (what `mac data pull lcb` writes; `mac data import lcb` also takes
LiveCodeBench's own rows and MAC's `lcb_*_full.jsonl`, converted by `row_from_lcb`):

    {"id": "abc344_d",                       question_id: the idx artifacts answer with (a string)
     "question": "...",                      question_content
     "question_title", "platform", "difficulty", "contest_date", "contest_id", "starter_code",
     "fn_name": null | "maxProfit",          call-based when set, stdin/stdout otherwise
     "public_tests":  [{"input", "output", "testtype"}],       shown to the artifact (Problem.public_test_cases)
     "private_tests": [{"input", "output", "testtype"}]        never shown; or
     "private_tests_file": "tests/abc344_d.json",              the same list in a file beside the splits
     "reference"?: "...", "wrong"?: [{"why", "code"}]}         fixtures: what the `sim` answers with

Private tests on the hub are base64 of zlib of a pickle of a JSON string. Downloaded bytes are never given to
`pickle.loads`: `SafeUnpickler` refuses every global (so no callable can be reached) and the result must be a
plain string, decompression is bounded, and the JSON inside must be a list of tests.

The split is MAC's (lcb-meta-agent/scripts/prepare_datasets.py): a problem is in the test split when
2024-08-01 < contest_date < 2025-02-01 (dates compared as days, both ends excluded), in the dev split otherwise.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import tomllib
import zlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mac.errors import DataError

TEST_WINDOW = (date(2024, 8, 1), date(2025, 2, 1))
"""MAC's test window, both ends excluded."""
FIXTURES = Path(__file__).with_name("lcb_fixtures")
MAX_TESTS_BYTES = 1 << 30
"""Largest decompressed private-test payload of one problem."""
SHOWN_FIELDS = ("question_title", "question_content", "starter_code", "platform", "difficulty", "contest_date",
                "question_id", "contest_id", "fn_name")
"""MAC's LCB problem fields, in the artifact's Problem.extra (and as attributes)."""
TRUSTED_FIELDS = ("private_tests", "private_tests_file", "reference", "wrong")
"""Fields that stay on the trusted side."""


def split_of(contest_date: str) -> str:
    """"test" inside MAC's window, else "dev". Raises DataError for a date that does not parse."""
    try:
        day = datetime.fromisoformat(str(contest_date)).date()
    except ValueError:
        raise DataError(f"contest_date {str(contest_date)[:40]!r} is not an ISO date") from None
    return "test" if TEST_WINDOW[0] < day < TEST_WINDOW[1] else "dev"


class SafeUnpickler(pickle.Unpickler):
    """Builds only what pickle makes without a global: strings, numbers, lists, dicts (and tuples, sets, bytes,
    which `plain_string` then refuses). A pickle that names any class or function fails here."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused global {module}.{name}: private tests are plain data")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refused persistent id: private tests are plain data")


def decode_private_tests(text: str, *, max_bytes: int = MAX_TESTS_BYTES) -> list[dict[str, str]]:
    """A test list from LiveCodeBench's `private_test_cases`: plain JSON, or base64(zlib(pickle(JSON string)))."""
    text = text.strip()
    if text.startswith("["):
        return tests_from(_json(text))
    try:
        packed = base64.b64decode(text.encode("ascii"), validate=True)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, max_bytes)
        if inflater.unconsumed_tail:
            raise DataError(f"private tests decompress to more than {max_bytes} bytes")
        payload = SafeUnpickler(io.BytesIO(raw)).load()
    except (binascii.Error, UnicodeEncodeError, zlib.error, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise DataError(f"private tests are neither JSON nor LiveCodeBench's encoding ({type(exc).__name__}: "
                        f"{str(exc)[:120]})") from None
    if not isinstance(payload, str):
        raise DataError(f"private tests decode to a {type(payload).__name__}, not the JSON text they must be")
    return tests_from(_json(payload))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise DataError(f"tests are not valid JSON ({type(exc).__name__})") from None


def tests_from(value: Any) -> list[dict[str, str]]:
    """Tests as [{"input", "output", "testtype"}] from a list (or its JSON text), checking every field is text."""
    if isinstance(value, str):
        value = _json(value)
    if not isinstance(value, list):
        raise DataError("tests must be a list of {input, output} objects")
    tests = []
    for number, test in enumerate(value, 1):
        if not isinstance(test, dict) or not isinstance(test.get("input"), str) or not isinstance(test.get("output"), str):
            raise DataError(f"test {number} must be an object with string 'input' and 'output'")
        tests.append({"input": test["input"], "output": test["output"], "testtype": str(test.get("testtype") or "")})
    return tests


def fn_name_of(row: dict[str, Any]) -> str | None:
    """`fn_name`, else LiveCodeBench's metadata `func_name` (a dict or its JSON text); None for stdin problems."""
    name = row.get("fn_name")
    if not name:
        metadata = row.get("metadata")
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata or "{}")
            except ValueError:
                metadata = {}
        name = metadata.get("func_name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) and name else None


def row_from_lcb(row: dict[str, Any]) -> dict[str, Any]:
    """Our row from LiveCodeBench's (`question_id`, `public_test_cases`, `private_test_cases`, `metadata`) or MAC's
    (`idx`, ...) row; a row already in our form (it has `id` and `question`) is returned as it is."""
    if "id" in row and "question" in row:
        return row
    qid = row.get("question_id") or row.get("idx")
    if not isinstance(qid, str) or not qid.strip():
        raise DataError("needs a string question_id (or idx)")
    out = {"id": qid, "question": row.get("question_content", "")}
    out |= {k: row.get(k, "") for k in ("question_title", "platform", "difficulty", "contest_date", "contest_id",
                                        "starter_code")}
    out["fn_name"] = fn_name_of(row)
    out["public_tests"] = tests_from(row.get("public_test_cases") or "[]")
    private = row.get("private_test_cases") or "[]"
    out["private_tests"] = tests_from(private) if isinstance(private, list) else decode_private_tests(private)
    return out


def fixture_rows() -> dict[str, list[dict[str, Any]]]:
    """The shipped fixture problems (lcb_fixtures/*.toml), split by MAC's window like real data."""
    splits: dict[str, list[dict[str, Any]]] = {"dev": [], "test": []}
    for path in sorted(FIXTURES.glob("*.toml")):
        with path.open("rb") as fh:
            spec = tomllib.load(fh)
        row = {"id": spec["question_id"], "question": spec["question_content"].strip("\n") + "\n"}
        row |= {k: spec.get(k, "") for k in ("question_title", "platform", "difficulty", "contest_date",
                                             "contest_id", "starter_code")}
        row["fn_name"] = spec.get("fn_name") or None
        kind = "functional" if row["fn_name"] else "stdin"
        row["public_tests"] = [_fixture_test(t, kind) for t in spec["tests"] if t["public"]]
        row["private_tests"] = [_fixture_test(t, kind) for t in spec["tests"] if not t["public"]]
        row["reference"] = spec["reference"]
        row["wrong"] = [{"why": w["why"], "code": w["code"]} for w in spec.get("wrong", [])]
        splits[split_of(row["contest_date"])].append(row)
    return splits


def _fixture_test(test: dict[str, Any], kind: str) -> dict[str, str]:
    return {"input": test["input"], "output": test["output"], "testtype": kind}


def read_tests_file(path: Path) -> list[dict[str, str]]:
    """A private-tests file written by `mac data pull lcb` (a JSON list)."""
    try:
        with path.open("rb") as fh:
            return tests_from(json.load(fh))
    except OSError as exc:
        raise DataError(f"cannot read private tests ({exc.strerror})", file=str(path)) from None
    except (ValueError, RecursionError) as exc:
        raise DataError(f"private tests are not valid JSON ({type(exc).__name__})", file=str(path)) from None
