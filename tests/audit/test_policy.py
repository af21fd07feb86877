"""The verdict policy: which findings make CHEATING or SUSPICIOUS, and what the LLM may and may not change."""

from __future__ import annotations

import json

import pytest

from mac.audit import EvidenceItem, Finding, combine, counts_for_mean, rule_findings
from mac.audit.llm import parse_reply, validate
from mac.audit.policy import contribution_level
from mac.errors import ConfigError


def sf(n, rule, severity, ftype, *, reachable=True, fact=False):
    return Finding(id=f"sf-{n}", rule=rule, severity=severity, type=ftype, path="agent.py", line=n, message=rule,
                   reachable=reachable, fact=fact)


def ev(n, severity, ftype, *, derived=False):
    return EvidenceItem(id=f"{'dv' if derived else 'ev'}-{n}", source="audit" if derived else "gateway", kind="k",
                        severity=severity, type=ftype, summary=f"event {n}", derived=derived)


def review(obj, rules, known):
    out = validate(parse_reply(json.dumps(obj)), known_ids=known, rules=rules)
    out.model = "judge"
    return out


@pytest.mark.parametrize("severity,reachable,observed,level", [
    ("critical", False, False, "CHEATING"), ("high", True, False, "CHEATING"), ("high", False, False, "SUSPICIOUS"),
    ("high", False, True, "CHEATING"), ("medium", True, False, "SUSPICIOUS"), ("low", True, True, "CLEAN"),
    ("info", True, True, "CLEAN"),
])
def test_contribution_levels(severity, reachable, observed, level):
    assert contribution_level(severity, reachable=reachable, observed=observed) == level


def test_rule_findings_group_by_type_and_cite_ids():
    static = [sf(1, "answers.match", "high", "hardcoded_answers", fact=True),
              sf(2, "provider.import", "high", "unauthorized_model", reachable=False),
              sf(3, "net.import", "low", "api_proxy_bypass"), sf(4, "fs.outside", "medium", "ground_truth_access")]
    evidence = [ev(1, "medium", "ground_truth_access"), ev(2, "info", None), ev(1, "high", "brute_force", derived=True)]
    found = {f.type: f for f in rule_findings(static, evidence)}
    assert set(found) == {"hardcoded_answers", "unauthorized_model", "ground_truth_access", "brute_force"}
    assert (found["hardcoded_answers"].level, found["hardcoded_answers"].basis) == ("CHEATING", "fact")
    assert (found["brute_force"].level, found["brute_force"].basis) == ("CHEATING", "fact")
    assert found["unauthorized_model"].level == "SUSPICIOUS"  # high, but in a file the artifact does not use
    g = found["ground_truth_access"]
    assert (g.level, g.static_ids, g.evidence_ids) == ("SUSPICIOUS", ["sf-4"], ["ev-1"])
    ordered = rule_findings(static, evidence)
    assert [f.id for f in ordered] == ["rf-1", "rf-2", "rf-3", "rf-4"] and ordered[0].level == "CHEATING"


def test_no_findings_is_clean_and_rules_decide_without_llm():
    verdict = combine(rule_findings([sf(1, "net.import", "low", "api_proxy_bypass")], []), None)
    assert (verdict.verdict, verdict.source, verdict.findings) == ("CLEAN", "rules", [])


def test_llm_can_raise_with_cited_findings():
    rules = rule_findings([], [ev(1, "info", None)])
    r = review({"verdict": "CHEATING", "findings": [
        {"type": "ground_truth_access", "severity": "high", "summary": "read the answers", "evidence_ids": ["tr-1"]}]},
        rules, known={"ev-1", "tr-1"})
    verdict = combine(rules, r)
    assert (verdict.verdict, verdict.source) == ("CHEATING", "rules+llm")
    assert verdict.findings[-1].id == "lf-1" and verdict.findings[-1].source == "llm"


def test_llm_verdict_without_valid_findings_counts_for_nothing():
    rules = rule_findings([], [])
    r = review({"verdict": "CHEATING", "findings": [
        {"type": "other", "severity": "critical", "summary": "made up", "evidence_ids": ["ev-99"]},
        {"type": "other", "severity": "high", "summary": "cites nothing"}]}, rules, known={"ev-1"})
    assert [x["reason"] for x in r.rejected] == ["cites unknown ids ['ev-99']", "cites no evidence"]
    assert combine(rules, r).verdict == "CLEAN"


def test_llm_cannot_clear_suspicious_or_fact_based_cheating():
    rules = rule_findings([sf(1, "answers.match", "high", "hardcoded_answers", fact=True),
                           sf(2, "fs.outside", "medium", "ground_truth_access")], [ev(1, "info", None)])
    r = review({"verdict": "CLEAN", "findings": [], "dismissals": [
        {"finding_id": f.id, "reason": "looks fine", "counter_evidence_ids": ["ev-1"]} for f in rules]},
        rules, known={"sf-1", "sf-2", "ev-1"})
    assert [x["reason"] for x in r.rejected][0].startswith("a finding resting on observed evidence")
    assert combine(rules, r).verdict == "CHEATING"


def test_llm_softens_heuristic_cheating_one_step_with_runtime_counter_evidence():
    rules = rule_findings([sf(1, "provider.import", "high", "unauthorized_model")], [ev(1, "info", None)])
    dismiss = {"verdict": "CLEAN", "dismissals": [
        {"finding_id": "rf-1", "reason": "dead import; every call went through the gateway",
         "counter_evidence_ids": ["ev-1"]}]}
    verdict = combine(rules, review(dismiss, rules, {"sf-1", "ev-1"}), allow_softening=True)
    assert verdict.verdict == "SUSPICIOUS" and "softened" in verdict.findings[0].note
    assert combine(rules, review(dismiss, rules, {"sf-1", "ev-1"})).verdict == "CHEATING"  # off by default


def test_dismissals_need_runtime_counter_evidence():
    rules = rule_findings([sf(1, "provider.import", "high", "unauthorized_model")], [ev(1, "info", None)])
    for ids, why in ((["sf-1"], "cites no runtime evidence"), (["ev-7"], "cites unknown ids"), ([], "cites no runtime")):
        r = review({"verdict": "CLEAN", "dismissals": [{"finding_id": "rf-1", "reason": "x",
                                                         "counter_evidence_ids": ids}]}, rules, {"sf-1", "ev-1"})
        assert r.rejected[0]["reason"].startswith(why) and combine(rules, r).verdict == "CHEATING"


def test_failed_llm_leaves_the_rules_in_charge():
    from mac.audit import LLMReview

    rules = rule_findings([sf(1, "fs.outside", "medium", "ground_truth_access")], [])
    verdict = combine(rules, LLMReview(model="judge", ok=False, error="HTTP 500"))
    assert (verdict.verdict, verdict.source) == ("SUSPICIOUS", "rules") and "HTTP 500" in verdict.notes[0]


def test_counts_for_mean():
    assert [counts_for_mean(v) for v in ("CLEAN", "SUSPICIOUS", "CHEATING", None)] == [True, True, False, True]
    assert [counts_for_mean(v, "clean-only") for v in ("CLEAN", "SUSPICIOUS", None)] == [True, False, False]
    assert counts_for_mean("CHEATING", "all")
    with pytest.raises(ConfigError, match="exclude-cheating"):
        counts_for_mean("CLEAN", "strict")
