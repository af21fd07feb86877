"""Audit one trial folder: scan, gather evidence, apply the rules, ask the LLM auditor, decide, write audit.json.

    report = await audit_trial(trial_dir, domain=domain, dev_records=dev, test_records=test, auditor=None)
    result.integrity_verdict, result.findings, result.evidence_count = report.result_fields().values()

`audit_trial` writes `audit.json` (unless write=False). It does not touch `result.json`: the trial owns it
and copies `report.result_fields()`; `update_result` does that for a finished trial (`mac audit`).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from mac.audit.answers import AnswerKey, AnswerKeys
from mac.audit.code_rules import domain_rules
from mac.audit.llm import ask_auditor
from mac.audit.models import (
    AuditFinding,
    AuditorConfig,
    AuditReport,
    EvidenceItem,
    Finding,
    LLMReview,
    severity_rank,
)
from mac.audit.policy import combine, rule_findings, verdict_of
from mac.audit.prompt import Material, collect_material, new_nonce, system_prompt, user_prompt
from mac.audit.runtime import gather_evidence, iter_jsonl
from mac.audit.scan import ExtraRules, ScanResult, scan_folders
from mac.store.atomic import write_json_atomic
from mac.store.paths import TrialPaths


def answer_key(domain: Any, records: list[Any] | None, split: str = "dev") -> AnswerKey | None:
    """A split's answers in the domain's canonical form (trusted side only); None where the truth is tests."""
    if not records or not getattr(getattr(domain, "grading", None), "needs_answer", True):
        return None

    def normalize(idx: int, record: Any) -> str | None:
        try:
            return domain.normalize(record.answer, domain.problem(idx, record)) if domain is not None else None
        except Exception:  # noqa: BLE001 - a domain that cannot read its own answer falls back to the raw one
            return None

    return AnswerKey.from_records(records, normalize, split=split)


def scan_trial(paths: TrialPaths, keys: AnswerKeys | None, extra: ExtraRules | None = None) -> ScanResult:
    """The artifact (primary: reachability is computed there) and the workspace files not identical to it."""
    roots = [(paths.artifact, "artifact/"), (paths.workspace, "workspace/")]
    if not paths.artifact.is_dir():
        roots = roots[1:]
    return scan_folders(roots, keys=keys, extra=extra)


async def audit_trial(trial_dir: Path, *, domain: Any, dev_records: list[Any] | None,
                      test_records: list[Any] | None = None, auditor: AuditorConfig | None = None,
                      write: bool = True) -> AuditReport:
    """The integrity verdict of a trial folder (after freeze). Never imports or runs the artifact.

    `domain` (a mac.domains.Domain) normalises the answers and sets the score thresholds; `dev_records` and
    `test_records` are the splits with answers, which stay on this trusted side (None: the answer-table detector
    cannot compare with that split and says so). `auditor` adds the LLM review."""
    paths = TrialPaths(Path(trial_dir))
    keys = AnswerKeys(answer_key(domain, dev_records), answer_key(domain, test_records, "test"))
    extra = await asyncio.to_thread(domain_rules, domain, [*(dev_records or []), *(test_records or [])])
    scan = await asyncio.to_thread(scan_trial, paths, keys, extra)
    evidence = await asyncio.to_thread(gather_evidence, paths.dir, getattr(domain, "score_check", None))
    rules = rule_findings(scan.findings, evidence)
    review = None
    if auditor is not None:
        review = await _review(auditor, paths, getattr(domain, "name", "?"), rules, scan, evidence)
    counts = _counts(scan.findings, evidence, rules, review)
    verdict = combine(rules, review, allow_softening=auditor.allow_softening if auditor else False, counts=counts)
    for split, key in (("dev", keys.dev), ("test", keys.test)):
        if key is None and extra is None:
            verdict.notes.append(f"no {split} answers: tables were not compared with them")
    report = AuditReport(trial=paths.name, verdict=verdict, rule_findings=rules, static_findings=scan.findings,
                         evidence=evidence, llm=review, scan=scan.stats, dev_answers_checked=keys.dev is not None,
                         test_answers_checked=keys.test is not None)
    if write:
        write_json_atomic(paths.audit, report)
    return report


async def _review(auditor: AuditorConfig, paths: TrialPaths, domain: str, rules: list[AuditFinding],
                  scan: ScanResult, evidence: list[EvidenceItem]) -> LLMReview:
    """Quote the material, ask the LLM auditor (retry once), validate what it cites."""
    static, nonce = scan.findings, new_nonce()
    evals = list(iter_jsonl(paths.dev_evals, limit=20_000))
    prompt_args: dict[str, Any] = dict(trial=paths.name, domain=domain, rules_verdict=verdict_of(rules), rules=rules, static=static,
                       evidence=evidence, evals=evals, nonce=nonce)
    bare = user_prompt(material=Material(), **prompt_args)
    budget = max(4_000, auditor.max_prompt_chars - len(bare) - len(system_prompt()))
    artifact_dir = paths.artifact if paths.artifact.is_dir() else paths.workspace
    prefix = "artifact/" if paths.artifact.is_dir() else "workspace/"
    reachable = {rel[len(prefix):] for rel in scan.reachable if rel.startswith(prefix)}
    material = await asyncio.to_thread(collect_material, artifact_dir, paths.trajectory, reachable, budget)
    messages = [{"role": "system", "content": system_prompt()},
                {"role": "user", "content": user_prompt(material=material, **prompt_args)}]
    known = {f.id for f in static} | {e.id for e in evidence} | material.ids()
    review = await ask_auditor(auditor, messages, known_ids=known, rules=rules)
    review.prompt_chars = sum(len(m["content"]) for m in messages)
    return review


def _counts(static: list[Finding], evidence: list[EvidenceItem], rules: list[AuditFinding],
            review: LLMReview | None) -> dict[str, int]:
    return {
        "static": len(static),
        "static_medium_plus": sum(severity_rank(f.severity) >= 2 for f in static),
        "evidence": len(evidence),
        "evidence_medium_plus": sum(severity_rank(e.severity) >= 2 for e in evidence),
        "rule_findings": len(rules),
        "llm_findings": len(review.findings) if review and review.ok else 0,
        "llm_rejected": len(review.rejected) if review else 0,
    }


def update_result(trial_dir: Path, report: AuditReport) -> bool:
    """Copy the verdict into an existing result.json (integrity_verdict, findings, evidence_count)."""
    path = TrialPaths(Path(trial_dir)).result
    if not path.is_file():
        return False
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(report.result_fields())
    write_json_atomic(path, data)
    return True
