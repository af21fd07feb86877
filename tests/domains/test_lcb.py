"""The `lcb` domain's data: MAC's fields and split, LiveCodeBench's encodings decoded safely, the fixtures."""

from __future__ import annotations

import base64
import json
import pickle
import zlib
from pathlib import Path

import pytest
from domkit import write_jsonl

from mac.domains import get_domain
from mac.domains.data import import_files, status
from mac.domains.lcb import wrong_program
from mac.domains.lcb_data import decode_private_tests, fixture_rows, row_from_lcb, split_of
from mac.errors import DataError

MARKER = Path("/tmp/mac-test-lcb-pickle-ran")


def encode(obj) -> str:
    """LiveCodeBench's encoding of private tests: base64(zlib(pickle(...)))."""
    return base64.b64encode(zlib.compress(pickle.dumps(obj))).decode()


class Payload:
    """A pickle that would run a command when loaded with pickle.loads."""

    def __reduce__(self):
        import os

        return os.system, (f"touch {MARKER}",)


TESTS = [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}]


def lcb_row(qid: str, date: str = "2023-05-06T00:00:00", **extra) -> dict:
    """A row as the hub's code_generation_lite files have it."""
    return {"question_title": f"title {qid}", "question_content": f"Add two numbers ({qid}).", "platform": "atcoder",
            "question_id": qid, "contest_id": "abc1", "contest_date": date, "starter_code": "", "difficulty": "easy",
            "public_test_cases": json.dumps(TESTS), "private_test_cases": encode(json.dumps(TESTS * 2)),
            "metadata": "{}", **extra}


def test_split_is_macs_window_with_both_ends_excluded() -> None:
    assert split_of("2024-08-01T00:00:00") == "dev" and split_of("2024-08-02T00:00:00") == "test"
    assert split_of("2025-01-31T23:59:00") == "test" and split_of("2025-02-01T12:00:00") == "dev"
    assert split_of("2023-01-01") == "dev"
    with pytest.raises(DataError, match="not an ISO date"):
        split_of("last tuesday")


def test_private_tests_decode_from_json_and_from_lcbs_encoding() -> None:
    assert decode_private_tests(json.dumps(TESTS)) == TESTS
    assert decode_private_tests(encode(json.dumps(TESTS))) == TESTS


def test_a_malicious_pickle_is_refused_and_never_runs() -> None:
    MARKER.unlink(missing_ok=True)
    with pytest.raises(DataError, match="refused global"):
        decode_private_tests(encode(Payload()))
    assert not MARKER.exists()
    with pytest.raises(DataError, match="refused global"):  # any class, even a harmless-looking one
        decode_private_tests(encode(Path("/etc")))


def test_decoded_data_must_be_plain_text_of_tests() -> None:
    with pytest.raises(DataError, match="decode to a list, not the JSON text"):
        decode_private_tests(encode(TESTS))  # a list object, not LiveCodeBench's JSON string
    with pytest.raises(DataError, match="more than 1000 bytes"):
        decode_private_tests(encode("x" * 100_000), max_bytes=1000)  # a decompression bomb stops at the cap
    with pytest.raises(DataError, match="neither JSON nor"):
        decode_private_tests("not base64 at all!")
    with pytest.raises(DataError, match="string 'input' and 'output'"):
        decode_private_tests(json.dumps([{"input": 1, "output": "2"}]))


def test_lcb_and_mac_rows_convert_to_ours() -> None:
    ours = row_from_lcb(lcb_row("abc1_a", metadata=json.dumps({"func_name": "add"})))
    assert ours["id"] == "abc1_a" and ours["question"] == "Add two numbers (abc1_a)."
    assert ours["fn_name"] == "add" and ours["public_tests"] == TESTS and ours["private_tests"] == TESTS * 2
    mac_full = {**lcb_row("3211"), "idx": "3211", "fn_name": "maxSum"}  # MAC's lcb_*_full.jsonl
    del mac_full["question_id"]
    assert row_from_lcb(mac_full)["id"] == "3211" and row_from_lcb(mac_full)["fn_name"] == "maxSum"
    with pytest.raises(DataError, match="question_id"):
        row_from_lcb({"question_content": "x"})


def test_import_takes_lcb_rows_and_problems_show_macs_fields_only(tmp_path, data_home) -> None:
    dev = write_jsonl(tmp_path / "dev.jsonl", [lcb_row("abc1_a"), lcb_row("abc1_b", metadata='{"func_name": "f"}')])
    test = write_jsonl(tmp_path / "test.jsonl", [lcb_row("abc9_a", date="2024-10-01T00:00:00")])
    import_files("lcb", dev, test)
    assert status("lcb").counts == {"dev": 2, "test": 1}
    lcb = get_domain("lcb")
    record = lcb.load("dev")[1]
    problem = lcb.problem(1, record)
    assert problem.idx == "abc1_b" and lcb.problem_idx(1, record) == "abc1_b"
    assert problem.fn_name == "f" and problem.question_content == problem.question and problem.platform == "atcoder"
    assert problem.public_test_cases == TESTS
    shown = json.dumps(problem.to_dict())
    assert "private" not in shown and json.dumps(TESTS * 2) not in shown
    with pytest.raises(AttributeError):
        problem.private_tests  # noqa: B018 - never an attribute of what the artifact sees


def test_bad_rows_name_file_line_and_field(tmp_path) -> None:
    lcb = get_domain("lcb")
    rows = [{"id": "x", "question": "q", "platform": "topcoder", "private_tests": TESTS}]
    with pytest.raises(DataError, match="platform must be one of") as err:
        lcb.validate_records(list(enumerate(rows, 1)), "f.jsonl")
    assert err.value.line == 1 and err.value.field == "platform"
    with pytest.raises(DataError, match="needs private_tests"):
        lcb.validate_records([(3, {"id": "x", "question": "q", "platform": "atcoder"})], "f.jsonl")
    with pytest.raises(DataError, match="f.jsonl:2.*not an ISO date"):
        lcb.validate_records([(2, {**rows[0], "platform": "atcoder", "contest_date": "soon"})], "f.jsonl")


def test_the_fixtures_cover_both_kinds_and_every_difficulty_in_each_split(data_home) -> None:
    rows = fixture_rows()
    assert len(rows["dev"]) + len(rows["test"]) >= 20
    ids = [r["id"] for split in rows.values() for r in split]
    assert len(ids) == len(set(ids))
    for split, split_rows in rows.items():
        assert {r["difficulty"] for r in split_rows} == {"easy", "medium", "hard"}, split
        assert {bool(r["fn_name"]) for r in split_rows} == {True, False}, split
        assert all(split_of(r["contest_date"]) == split for r in split_rows)
        for r in split_rows:
            assert r["public_tests"] and r["private_tests"] and r["reference"] and len(r["wrong"]) >= 2, r["id"]
    lcb = get_domain("lcb")  # no data installed: the fixtures are the splits
    assert [r.id for r in lcb.load("test")] == [r["id"] for r in rows["test"]]
    assert status("lcb").counts == {"dev": len(rows["dev"]), "test": len(rows["test"])}


def test_sim_items_answer_with_the_reference_or_a_wrong_program(data_home) -> None:
    lcb = get_domain("lcb")
    record = lcb.load("dev")[0]
    item = lcb.sim_item(0, record)
    assert item.answer_format == "code" and item.answer == record.reference
    assert item.distractors[:-1] == [w["code"] for w in record.wrong]
    assert item.question == lcb.problem(0, record).question
    by_label = {}
    for r in lcb.load("dev"):
        by_label.setdefault(r.extra["difficulty"], []).append(lcb.difficulty(r))
    assert max(by_label["easy"]) < min(by_label["medium"]) and max(by_label["medium"]) < min(by_label["hard"])
    bare = record.model_copy(update={"reference": None})
    assert lcb.sim_item(0, bare).answer == wrong_program(record.extra["starter_code"], record.extra["fn_name"])


def test_the_wrong_program_is_valid_python_of_the_right_shape() -> None:
    starter = "class Solution:\n    def maxProfit(self, prices: List[int]) -> int:\n        "
    call_based = wrong_program(starter, "maxProfit")
    compile(call_based, "w", "exec")
    assert call_based.startswith(starter.rstrip()) and "return None" in call_based
    compile(wrong_program("", "f"), "w", "exec")
    compile(wrong_program("", None), "w", "exec")
