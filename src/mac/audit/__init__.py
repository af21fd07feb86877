"""The auditor: static scan + runtime evidence + optional LLM review -> the trial's integrity verdict.

    from mac.audit import audit_trial, scan_workspace, AuditorConfig, counts_for_mean

    findings = scan_workspace(path, dev_answers=["33", "7"])            # sync; every file, never runs code
    report = await audit_trial(trial_dir, domain=domain, dev_records=dev, test_records=test,
                               auditor=AuditorConfig.parse("openai:NAME", base_url))   # writes audit.json
    result_json.update(report.result_fields())   # integrity_verdict, findings, evidence_count
    counts_for_mean(report.verdict.verdict)      # False for CHEATING (the default policy)

Pieces: mac.audit.scan and mac.audit.scanfile (rules: `RULES`; answer tables in any file and format:
mac.audit.answers, mac.audit.tables, mac.audit.blobs, mac.audit.binformats), mac.audit.runtime (evidence) and
mac.audit.scores (the anomalous-score rule), mac.audit.policy (the verdict policy, documented there), mac.audit.llm
and mac.audit.prompt (the LLM auditor and its quoting), mac.audit.models.
`mac.audit.fake_judge` is an honest fake of a naive LLM judge for tests.
"""

from mac.audit.answers import AnswerKey, AnswerKeys
from mac.audit.models import (
    FINDING_TYPES,
    AuditFinding,
    AuditorConfig,
    AuditReport,
    EvidenceItem,
    Finding,
    IntegrityVerdict,
    LLMReview,
)
from mac.audit.policy import combine, counts_for_mean, rule_findings
from mac.audit.runtime import gather_evidence
from mac.audit.catalogue import RULES
from mac.audit.scan import scan_folders, scan_workspace
from mac.audit.trial import audit_trial, scan_trial, update_result

__all__ = [
    "FINDING_TYPES", "RULES", "AnswerKey", "AnswerKeys", "AuditFinding", "AuditReport", "AuditorConfig", "EvidenceItem",
    "Finding", "IntegrityVerdict", "LLMReview", "audit_trial", "combine", "counts_for_mean", "gather_evidence",
    "rule_findings", "scan_folders", "scan_trial", "scan_workspace", "update_result",
]
