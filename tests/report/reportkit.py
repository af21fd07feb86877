"""Builds synthetic trial folders for report tests with the store's own models and writers."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mac.audit.models import AuditFinding, AuditReport, EvidenceItem, Finding, IntegrityVerdict
from mac.config import Budget, Quota, TaskModelSpec
from mac.evaluation.result import EvalResult
from mac.evidence import EvidenceLog
from mac.records import Usage
from mac.report.baselines import BaselineRow, baselines_file
from mac.store import (
    BudgetUse, DevScore, JobPaths, MetaAgentUsage, PhaseTiming, Score, TrialConfig, TrialResult, append_jsonl, write_json_atomic,
)

XSS = "</script><script>alert(1)</script>"
PWN = "</pre></details><script>document.documentElement.setAttribute('data-pwned','1')</script>"
"""Would mark the page if it ever ran: the browser test looks for the mark."""
T0 = time.time() - 7200  # evidence records carry the real clock

AGENT_SOURCE = f'''"""An artifact that tries to break out of the report: {XSS}"""
from mac.sdk import BaseAgent, Prediction


class Agent(BaseAgent):  # <img src=x onerror="document.documentElement.setAttribute('data-pwned','2')">
    """{PWN}"""
    def solve(self, problems, timeout_sec):
        note = "{XSS}"
        return [Prediction(p.idx, str(len(p.question) % 7)) for p in problems]
'''


def write_trial(jobs_dir: Path, job: str, trial: str, *, domain: str = "arith", meta_agent: str = "reference",
                task_model: str = "sim", seed: int = 0, test: float | None = 50.0, total: int = 20,
                best_dev: float | None = None, verdict: str | None = "CLEAN", status: str = "completed",
                dev_points: list[tuple[float, float]] = (), findings: list[dict[str, Any]] | None = None,
                evidence: list[tuple[str, str, str]] = (), artifact: str | None = AGENT_SOURCE,
                usage: Usage | None = None, reason: str | None = None, result: bool = True,
                audit: AuditReport | None = None, meta_usage: MetaAgentUsage | None = None,
                options: dict[str, Any] | None = None, scores: list[int] | None = None,
                test_seed: str | None = None) -> Path:
    """One trial folder: config.json, result.json, dev_evals.jsonl, evidence.jsonl, artifact/, trajectory/, and
    with `scores` (1/0 per test problem) a verification.json whose score the result's test score is made of."""
    paths = JobPaths(jobs_dir, job).trial(trial)
    paths.create()
    spec = TaskModelSpec(backend="sim", name="sim", seed=seed) if task_model == "sim" else \
        TaskModelSpec(backend="openai", name=task_model, base_url="http://127.0.0.1:9/v1")
    budget = Budget(dev_time_sec=3600, dev_quota=Quota(requests=1000))
    write_json_atomic(paths.config, TrialConfig(job=job, trial=trial, domain=domain, meta_agent=meta_agent, seed=seed,
                                                task_model=spec, budget=budget, created_at=T0))
    if not result:
        return paths.dir
    if scores is not None:
        total, test = len(scores), 100.0 * sum(scores) / len(scores)
        write_json_atomic(paths.verification, EvalResult(success=True, split="test", accuracy=test, correct=sum(scores),
                                                         total=total, scores=scores))
    for i, (at, acc) in enumerate(dev_points):
        append_jsonl(paths.dev_evals, {"time_sec": at, "started_at": T0 + 5 + at, "wall_sec": 12.0, "run_id": f"r{i}",
                                       "first_k": None, "success": True, "accuracy": acc, "correct": round(acc / 5),
                                       "total": 20, "usage": Usage(requests=20).model_dump()})
    log = EvidenceLog(paths.evidence)
    for source, kind, label in evidence:
        log.add(source, kind, label=label, detail=XSS)
    if artifact is not None:
        paths.artifact.mkdir(exist_ok=True)
        (paths.artifact / "agent.py").write_text(artifact)
        (paths.artifact / "notes.md").write_text(f"# notes {XSS}\n")
    (paths.trajectory / "stdout.txt").write_text(f"step 1\n{XSS}\n")
    use = usage or Usage(requests=100, input_tokens=20_000, output_tokens=5_000, cost_usd=0.25)
    dev_use = Usage(requests=use.requests // 2)
    best = DevScore(accuracy=best_dev, correct=round(best_dev / 5), total=20, run_id="r0", time_sec=600.0) \
        if best_dev is not None else None
    res = TrialResult(
        job=job, trial=trial, domain=domain, meta_agent=meta_agent, meta_agent_options=options or {}, seed=seed,
        task_model=spec.name,
        simulated=spec.simulated, status=status,
        test=Score(accuracy=test, correct=round(test * total / 100), total=total) if test is not None else None,
        best_dev=best, dev_evals=len(dev_points),
        budget_use=BudgetUse(dev_time_sec=1800, dev_time_limit_sec=3600, dev_quota=Quota(requests=1000),
                             dev_usage=dev_use),
        usage={"dev": dev_use, "verify": use}, artifact_sha256="ab" * 32, artifact_files=2, artifact_bytes=400,
        timings={"develop": PhaseTiming(started_at=T0 + 5, finished_at=T0 + 1805, duration_sec=1800),
                 "verify": PhaseTiming(started_at=T0 + 1810, finished_at=T0 + 1900, duration_sec=90)},
        sandbox={"name": "bwrap"}, reason=reason, integrity_verdict=verdict, findings=findings or [],
        evidence_count=len(evidence), started_at=T0, finished_at=T0 + 1900, meta_agent_usage=meta_usage,
        test_seed_fingerprint=test_seed)
    if audit is not None:
        write_json_atomic(paths.audit, audit)
        res = res.model_copy(update=audit.result_fields())
    write_json_atomic(paths.result, res)
    return paths.dir


def cheating_audit() -> AuditReport:
    """An auditor's verdict citing defence evidence (ev-1), derived evidence (dv-1) and a static finding (sf-1)."""
    finding = AuditFinding(id="rf-1", type="ground_truth_access", severity="high", level="CHEATING",
                           summary=f"opened the answers {XSS}", evidence_ids=["ev-1", "dv-1"], static_ids=["sf-1"],
                           basis="fact")
    return AuditReport(
        trial="ref-cheat", verdict=IntegrityVerdict(verdict="CHEATING", source="rules", findings=[finding]),
        static_findings=[Finding(id="sf-1", rule="answers.path", severity="high", type="ground_truth_access",
                                 path="agent.py", line=3, excerpt=XSS, message="names the test split")],
        evidence=[EvidenceItem(id="ev-1", source="sandbox", kind="denied_open", label="open /data/test.jsonl"),
                  EvidenceItem(id="ev-2", source="gateway", kind="refused", label="foreign token"),
                  EvidenceItem(id="dv-1", source="audit", kind="probe_pattern", derived=True,
                               summary=f"12 evaluations on 1 problem {XSS}")])


def write_baseline(jobs_dir: Path, *, kind: str, seed: int, accuracy: float | None = None, domain: str = "arith",
                   total: int = 20, created_at: float | None = None, scores: list[int] | None = None) -> None:
    if scores is not None:
        accuracy, total = 100.0 * sum(scores) / len(scores), len(scores)
    row = BaselineRow(domain=domain, kind=kind, seed=seed, task_model="sim", simulated=True, accuracy=accuracy,
                      correct=round(accuracy * total / 100), total=total, scores=scores or [],
                      created_at=created_at or time.time())
    path = baselines_file(jobs_dir, domain)
    path.parent.mkdir(parents=True, exist_ok=True)
    append_jsonl(path, row)


def standard_job(jobs_dir: Path, job: str = "job1") -> Path:
    """Two configurations: reference x3 (60, 70, 80) + one CHEATING (100), and `other` x1 (40) still running."""
    for i, acc in enumerate((60.0, 70.0, 80.0)):
        write_trial(jobs_dir, job, f"ref-{i}", seed=i, test=acc, best_dev=acc + 10,
                    dev_points=[(300.0, 40.0), (900.0, acc), (1500.0, acc + 10)])
    write_trial(jobs_dir, job, "ref-cheat", seed=9, test=100.0, best_dev=100.0, verdict="CHEATING",
                evidence=[("sandbox", "denied_open", "open /data/test.jsonl"), ("gateway", "refused", "foreign token")],
                audit=cheating_audit())
    write_trial(jobs_dir, job, "other-0", meta_agent="other", test=None, status="running", verdict=None,
                dev_points=[(100.0, 30.0)])
    write_trial(jobs_dir, job, "other-1", meta_agent="other", test=40.0, verdict="SUSPICIOUS", best_dev=45.0,
                findings=[{"kind": "probe", "severity": "medium", "message": f"many tiny evaluations {XSS}",
                           "evidence": ["ev-1", "ev-99"]}],
                evidence=[("evaluation", "probe_pattern", "8 evaluations on at most 2 problems")])
    return jobs_dir / job
