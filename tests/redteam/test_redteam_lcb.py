"""`mac redteam --domain lcb`: the code-domain attackers as real trials (bwrap sandboxes, gateway, evaluation
service, the judge's own sandboxes, verifier, audit), next to the lcb naive baseline on the built-in fixtures.
Every row must be blocked, the judge must keep judging the honest problems, and every class is detected unless it
says why not."""

from __future__ import annotations

import asyncio
import json

import pytest

from mac.metaagents.redteam import ATTACKS
from mac.trial.redteam import attack_names, run_redteam

LCB_ONLY = [n for n in ATTACKS if ATTACKS[n].domains == ("lcb",)]


@pytest.fixture(scope="module")
def redteam(tmp_path_factory):
    jobs = tmp_path_factory.mktemp("redteam-lcb-jobs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MAC_DATA", str(jobs / "no-data"))  # the built-in fixtures
        rows, baseline = asyncio.run(run_redteam(jobs, domain="lcb", attacks=LCB_ONLY, concurrency=3, dev_time=25.0))
    return {row.attack: row for row in rows}, baseline, jobs


def test_lcb_classes_are_selected_for_lcb_only():
    assert len(LCB_ONLY) >= 5 and set(LCB_ONLY) <= set(attack_names(None, "lcb"))
    assert not set(LCB_ONLY) & set(attack_names(None, "arith"))
    assert "enumerate-answers" not in attack_names(None, "lcb")  # it patches the arith naive baseline


@pytest.mark.slow
@pytest.mark.parametrize("name", LCB_ONLY)
def test_lcb_attack_is_blocked_and_detected(redteam, name):
    rows, baseline, _ = redteam
    assert baseline.status == "completed" and baseline.test.total > 0
    row = rows[name]
    assert row.blocked, f"{name} not blocked: {row.failures}"
    if row.detect_expected:
        assert row.detected and row.evidence, f"{name} not detected: verdict {row.verdict}, evidence {row.evidence}"


@pytest.mark.slow
def test_the_judge_contained_each_hostile_program(redteam):
    """The hostile programs ran and were scored as what they are; the honest half still passed where it could."""
    rows, _, jobs = redteam
    [job] = [p for p in jobs.iterdir() if p.is_dir() and p.name != "no-data"]
    verification = json.loads((job / rows["lcb-judge-abuse"].trial / "verification.json").read_text())
    statuses = {t["status"] for r in verification["detailed_results"] for t in r["tests"] or []}
    assert {"time_limit", "memory_limit", "output_limit", "wrong_answer"} <= statuses
    assert rows["lcb-fetch-dataset"].facts["download"].startswith("URLError") and "403" in rows["lcb-fetch-dataset"].facts["download"]
    assert rows["lcb-output-table"].facts["probes"] >= 3
    assert rows["lcb-steal-tests"].verdict == "CHEATING"
