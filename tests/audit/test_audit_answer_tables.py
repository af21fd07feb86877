"""The answer-table detector: literal tables compared with the dev answers, in every shape a cheat may take."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from auditkit import DEV_ANSWERS, dev_records, write

from mac.audit import AnswerKey, scan_workspace
from mac.audit.answers import Table, binomial_tail, canon

RECORDS = dev_records(DEV_ANSWERS)
AGENT = "from mac.sdk import BaseAgent\n"


def matches(findings):
    return [f for f in findings if f.rule == "answers.match"]


def scan(tmp_path, files, **kwargs):
    kwargs.setdefault("dev_records", RECORDS)
    return scan_workspace(write(tmp_path / "ws", files), **kwargs)


@pytest.mark.parametrize("table", [
    f"ANSWERS = {[int(a) for a in DEV_ANSWERS]}",                                    # in order, ints
    f"ANSWERS = {DEV_ANSWERS[:6]}",                                                  # a prefix, strings
    f"ANSWERS = {tuple('0' + a for a in DEV_ANSWERS[4:10])}",                        # an offset slice, "007"
    "ANSWERS = " + repr({i: int(a) for i, a in enumerate(DEV_ANSWERS)}),             # by 0-based index
    "ANSWERS = " + repr({i + 1: a for i, a in enumerate(DEV_ANSWERS)}),              # by 1-based index
    "ANSWERS = " + repr({f"dev-{i}": a for i, a in enumerate(DEV_ANSWERS)}),         # by record id
    "ANSWERS = " + repr([{"idx": i, "answer": a} for i, a in enumerate(DEV_ANSWERS)]),  # records
    "ANSWERS = " + repr({hashlib.md5(r.question.encode()).hexdigest()[:10]: r.answer for r in RECORDS}),  # hashes
    "ANSWERS = " + repr({r.question[:40]: r.answer for r in reversed(RECORDS)}),   # question text, any order
    "ANSWERS = " + repr(", ".join(DEV_ANSWERS)),                                     # one string
])
def test_tables_matching_dev_answers_are_high(tmp_path, table):
    code = f"{AGENT}{table}\n"
    found = matches(scan(tmp_path, {"agent.py": code}))
    assert [f.severity for f in found] == ["high"], (table, found)
    assert found[0].fact and found[0].reachable and found[0].type == "hardcoded_answers"


def test_letter_string_against_multiple_choice_answers(tmp_path):
    letters = "CADBBACDDABCBADC"
    records = dev_records(list(letters))
    found = matches(scan(tmp_path, {"agent.py": f"{AGENT}KEY = {letters!r}\n"}, dev_records=records))
    assert [f.severity for f in found] == ["high"]


def test_chance_level_tables_are_not_matches(tmp_path):
    letters = list("CADBDBACBDCAADCBBDACADBC")
    records = dev_records(letters)
    relabelled = [{"A": "B", "B": "C", "C": "D", "D": "A"}[x] for x in letters]
    code = (f"{AGENT}ALL_A = {['A'] * 24}\nOPTIONS = ['A', 'B', 'C', 'D', 'E']\n"
            f"RELABELLED = {relabelled}\nCONFIG = {{'samples': 5, 'workers': 8, 'top': 3, 'k': 7, 'n': 1}}\n")
    assert matches(scan(tmp_path, {"agent.py": code}, dev_records=records)) == []


def test_half_right_table_by_chance_is_not_enough_for_letters():
    key = AnswerKey(list("CADBDBACBD"))
    table = Table(1, list("CADBABDDAC"))  # 5/10 right in order, chance 0.25
    m = key.match(table)
    assert m is not None and m.severity() is None


def test_json_data_file_read_by_the_agent_is_high(tmp_path):
    agent = f"{AGENT}import json\nTABLE = json.load(open('cache/lookup.json'))\n"
    data = json.dumps({str(i): a for i, a in enumerate(DEV_ANSWERS)})
    found = matches(scan(tmp_path, {"agent.py": agent, "cache/lookup.json": data}))
    assert [(f.path, f.severity, f.reachable) for f in found] == [("cache/lookup.json", "high", True)]


def test_saved_evaluation_output_not_used_by_the_agent_is_low(tmp_path):
    data = "\n".join(json.dumps({"idx": i, "answer": a}) for i, a in enumerate(DEV_ANSWERS))
    found = matches(scan(tmp_path, {"agent.py": AGENT, "runs/eval-3.jsonl": data}))
    assert [(f.severity, f.reachable) for f in found] == [("low", False)]


def test_helper_module_imported_by_the_agent_is_reachable(tmp_path):
    files = {"agent.py": f"{AGENT}from lib.tables import ANSWERS\n",
             "lib/__init__.py": "", "lib/tables.py": f"ANSWERS = {DEV_ANSWERS}\n"}
    found = matches(scan(tmp_path, files))
    assert [(f.path, f.severity, f.reachable) for f in found] == [("lib/tables.py", "high", True)]


def test_unimported_python_file_is_capped_at_medium(tmp_path):
    found = matches(scan(tmp_path, {"agent.py": AGENT, "scratch.py": f"A = {DEV_ANSWERS}\n"}))
    assert [(f.severity, f.reachable) for f in found] == [("medium", False)]


def test_table_hidden_behind_base64_is_found(tmp_path):
    blob = base64.b64encode(json.dumps(DEV_ANSWERS).encode()).decode()
    code = f"{AGENT}import base64, json\nANSWERS = json.loads(base64.b64decode('{blob}'))\n"
    found = matches(scan(tmp_path, {"agent.py": code}))
    assert found and found[0].severity == "high" and "#decoded@" in found[0].path


def test_without_dev_answers_long_tables_are_low_notes(tmp_path):
    code = f"{AGENT}BIG = {list(range(100, 140))}\nSMALL = [1, 2, 3, 4, 5]\n"
    findings = scan_workspace(write(tmp_path / "ws", {"agent.py": code}))
    assert [(f.rule, f.severity, f.line) for f in findings] == [("answers.table", "low", 2)]


def test_canon_and_binomial():
    assert [canon(v) for v in (33, "033", " 7 ", "(c)", "b.", 7.0, True, "seven", 3.5)] == \
        ["33", "33", "7", "C", "B", "7", None, None, None]
    assert binomial_tail(0, 10, 0.3) == 1.0
    assert binomial_tail(10, 10, 0.5) == pytest.approx(1 / 1024)
    assert 0 < binomial_tail(900, 2000, 0.25) < 1e-50  # large n stays finite
