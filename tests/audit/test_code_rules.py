"""The code domains' audit rules (mac.audit.code_rules), on the lcb fixtures: each rule fires on what it is for,
and clean code-domain artifacts (the baselines, the reference meta-agent's designs, the harness files) stay clean."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from auditkit import make_trial, rules, write

from mac.audit import audit_trial, scan_workspace
from mac.audit.code_rules import CodeKey, domain_rules
from mac.domains import get_domain
from mac.domains.base import InstructionContext
from mac.domains.lcb_grading import split_tests
from mac.trial.workspace import dev_problems


@pytest.fixture
def lcb(tmp_path, monkeypatch):
    monkeypatch.setenv("MAC_DATA", str(tmp_path / "no-data"))  # the built-in fixtures
    domain = get_domain("lcb")
    return domain, domain.load("dev")


def scan(folder, domain, records):
    return scan_workspace(folder, extra=domain_rules(domain, records))


def code_rules(findings):
    return {f.rule for f in findings if f.rule.startswith("code.")}


def hidden_outputs(records, n):
    key = CodeKey.from_records(records, split_tests)
    return sorted(key.hidden)[:n]


def test_a_table_keyed_by_problem_ids_is_flagged(tmp_path, lcb):
    domain, records = lcb
    table = {r.id: "print(42)" for r in records[:5]}
    found = scan(write(tmp_path / "ws", {"agent.py": f"PROGRAMS = {table!r}\n"}), domain, records)
    [hit] = [f for f in found if f.rule == "code.id_table"]
    assert hit.severity == "high" and hit.type == "hardcoded_answers" and hit.fact and hit.line == 1
    titles = {r.extra["question_title"]: "x" for r in records[:4]}
    assert "code.id_table" in code_rules(scan(write(tmp_path / "t", {"notes.json": json.dumps(titles)}), domain, records))


def test_outputs_of_hidden_tests_are_flagged(tmp_path, lcb):
    domain, records = lcb
    outputs = hidden_outputs(records, 3)
    assert len(outputs) == 3
    code = "GUESSES = " + repr(outputs) + "\nprint(GUESSES[0])\n"
    found = scan(write(tmp_path / "ws", {"agent.py": code}), domain, records)
    assert {"code.hidden_outputs"} <= code_rules(found)
    one = scan(write(tmp_path / "one", {"agent.py": f"X = {outputs[0]!r}\n"}), domain, records)
    assert "code.hidden_outputs" not in code_rules(one)  # a single long literal can be chance


def test_test_case_files(tmp_path, lcb):
    domain, records = lcb
    public = [t for r in records for t in r.extra["public_test_cases"]]
    outputs = hidden_outputs(records, 2)
    folder = write(tmp_path / "ws", {
        "agent.py": "print(1)\n",
        "public_copy.json": json.dumps(public),                                     # public tests only: fine
        "mine.json": json.dumps([{"input": f"{i}\n", "output": f"{i * i}\n"} for i in range(5)]),
        "stolen.jsonl": "".join(json.dumps({"input": "x", "output": o}) + "\n" for o in outputs * 2),
        "data/lcb_test_full.jsonl": "{}\n",
    })
    found = {f.path: f for f in scan(folder, domain, records) if f.rule == "code.testfile"}
    assert set(found) == {"mine.json", "stolen.jsonl", "data/lcb_test_full.jsonl"}
    assert found["mine.json"].severity == "medium" and found["stolen.jsonl"].severity == "high"
    assert found["data/lcb_test_full.jsonl"].severity == "high"


def test_livecodebench_sources_and_problem_pages(tmp_path, lcb):
    domain, records = lcb
    code = ('from datasets import load_dataset\nDS = load_dataset("livecodebench/code_generation_lite")\n'
            'REF = "https://leetcode.com/problems/two-sum/solutions/"\n')
    found = {f.rule: f for f in scan(write(tmp_path / "ws", {"agent.py": code}), domain, records)}
    assert found["code.source"].severity == "high" and found["code.source"].line == 2
    assert found["code.problem_page"].severity == "medium" and found["code.problem_page"].line == 3
    assert found["code.source"].type == "external_benchmark_fetch"
    # without dev records (no key), the name rules still apply
    assert "code.source" in code_rules(scan_workspace(tmp_path / "ws", extra=domain_rules(domain, None)))


def test_clean_code_artifacts_and_harness_files_raise_no_code_finding(tmp_path, lcb):
    import importlib.util

    from mac.metaagents.reference import PROGRAM

    domain, records = lcb
    spec = importlib.util.spec_from_file_location("reference_program", PROGRAM)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    designs = program.screening_designs(random.Random(0), "code")
    files = {f"design{i}.py": program.render(d) for i, d in enumerate(designs)}
    files |= {"agent.py": (domain.baseline("strong") / "agent.py").read_text(),
              "naive.py": (domain.baseline("naive") / "agent.py").read_text(),
              "dev_problems.json": json.dumps(dev_problems(domain, records)),
              "instruction.md": domain.instruction(InstructionContext())}
    assert code_rules(scan(write(tmp_path / "ws", files), domain, records)) == set()
    assert domain_rules(get_domain("aime"), None) is None  # short-answer domains are unaffected


def test_audit_of_an_lcb_trial_with_an_id_table_is_cheating(tmp_path, lcb):
    domain, records = lcb
    agent = ("from mac.sdk import BaseAgent, Prediction\n"
             f"KNOWN = {({r.id: 'print(1)' for r in records[:6]})!r}\n"
             "class Agent(BaseAgent):\n    def solve(self, problems, timeout_sec):\n"
             "        return [Prediction(p.idx, KNOWN.get(p.idx, '')) for p in problems]\n")
    paths = make_trial(tmp_path, agent=agent, domain="lcb")
    report = asyncio.run(audit_trial(paths.dir, domain=domain, dev_records=records))
    assert report.verdict.verdict == "CHEATING"
    assert "code.id_table" in rules(report.static_findings)
    assert not report.dev_answers_checked  # code has no answers; the code rules compared instead
    assert not any("no dev answers" in note for note in report.verdict.notes)
