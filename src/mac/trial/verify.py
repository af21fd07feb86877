"""Verification: the frozen artifact on the test split, in a fresh artifact sandbox, with its own token.

Used at the end of a trial and by `mac verify TRIAL_DIR` (which rebuilds the gateway from config.json).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from mac.config import Budget
from mac.domains.base import Domain, get_domain
from mac.domains.testseed import seed_for
from mac.errors import ConfigError
from mac.evaluation.result import EvalResult
from mac.evaluation.runner import empty_result, run_artifact
from mac.evidence import EvidenceLog
from mac.paths import scratch_home
from mac.records import Record
from mac.sandbox.base import SandboxBackend
from mac.store.atomic import write_json_atomic
from mac.store.index import Index
from mac.store.models import PhaseTiming, Score, TrialConfig, TrialResult
from mac.store.paths import TrialPaths
from mac.trial.outcome import finished_status


def no_artifact_reason(artifact: Path) -> str | None:
    """Why there is nothing to verify, or None when artifact/agent.py exists."""
    if not artifact.is_dir():
        return "no artifact: the workspace could not be frozen"
    if not (artifact / "agent.py").is_file():
        return "no artifact: the meta-agent left no agent.py in its workspace"
    return None


async def verify_artifact(*, domain: Domain, test_records: list[Record], artifact: Path, gateway, backend: SandboxBackend,
                          budget: Budget, evidence: EvidenceLog | None, label: str, workdir: Path | None) -> EvalResult:
    """Run and grade the frozen artifact on the test split with a fresh "verify" token, revoked afterwards."""
    if not backend.isolated:
        raise ConfigError(f"sandbox {backend.name!r} isolates nothing and is refused for the test split: verify "
                          "with --sandbox bwrap")
    reason = no_artifact_reason(artifact)
    simulated = bool(getattr(getattr(gateway, "backend", None), "simulated", False))
    if reason is not None:
        return empty_result(domain, test_records, error=reason, split="test", simulated=simulated,
                            run_id=f"{label}-verify")
    grant = gateway.grant(phase="verify", quota=budget.verify_quota, label=f"{label}/verify")
    try:
        return await run_artifact(domain=domain, records=test_records, split="test", artifact=artifact,
                                  gateway=gateway, token=grant.token, backend=backend,
                                  timeout=budget.verify_timeout_sec, limits=budget.eval_limits, evidence=evidence,
                                  run_id=f"{label}-verify", workdir=workdir)
    finally:
        gateway.revoke(grant.token)


def test_score(result: EvalResult) -> Score:
    return Score(accuracy=result.accuracy if result.success else 0.0,
                 correct=result.correct if result.success else 0, total=result.total)


def failure_reason(result: EvalResult) -> str | None:
    """Why a verification scored 0 or partially (None when the artifact ran cleanly)."""
    if not result.success:
        error = result.error or "the artifact produced no gradeable output"
        return error if error.startswith("no artifact") else f"broken artifact: {error}"
    if result.partial:
        missing = f"partial: {len(result.missing_predictions)} missing predictions"
        return f"{missing}; {result.error}" if result.error else missing
    if result.error:  # every problem answered, some in a way that cannot be graded (e.g. pred not a string)
        return f"bad predictions: {result.error}"
    return None


async def verify_trial_dir(trial_dir: Path, *, sandbox: str | None = None) -> TrialResult:
    """Re-verify a finished trial from its folder (artifact/ + config.json); updates verification.json and
    result.json. Refused while the job's controller runs, for an unfinished trial, and for an artifact/ that
    changed since the freeze."""
    from mac.store.paths import JobPaths
    from mac.trial.job import job_lock

    paths = TrialPaths(Path(trial_dir).resolve())
    trial_config(paths.dir)  # a missing or unreadable config.json is refused before the lock
    with job_lock(JobPaths(paths.dir.parent.parent, paths.dir.parent.name)):
        return await _reverify(paths, sandbox)


def trial_config(trial_dir: Path) -> TrialConfig:
    """The config.json of a trial folder; ConfigError when there is none, StoreError when it is unreadable."""
    paths = TrialPaths(Path(trial_dir))
    if not paths.config.is_file():
        raise ConfigError(f"{paths.dir} is not a trial folder (no config.json): pass jobs/<job>/<trial>")
    return TrialConfig.load(paths.config)


def _check_reverifiable(paths: TrialPaths, result: TrialResult | None) -> None:
    from mac.sandbox.snapshot import content_hash

    if result is None:
        return
    if result.status in ("running", "interrupted"):
        raise ConfigError(f"trial {paths.dir.name} is {result.status}: only a finished trial is re-verified; "
                          f"continue it with: mac run --resume {paths.dir.parent}")
    if result.artifact_sha256 and paths.artifact.is_dir():
        now = content_hash(paths.artifact)
        if now != result.artifact_sha256:
            raise ConfigError(f"{paths.artifact} changed since the freeze (sha256 {result.artifact_sha256[:12]} "
                              f"recorded, {now[:12]} now): re-verifying would score another artifact")


async def _reverify(paths: TrialPaths, sandbox: str | None) -> TrialResult:
    from mac.gateway import Gateway, make_backend
    from mac.trial.setup import trial_sandbox

    _check_reverifiable(paths, TrialResult.load(paths.result) if paths.result.is_file() else None)
    config = TrialConfig.load(paths.config)
    if sandbox is not None and sandbox != config.sandbox:
        config = config.model_copy(update={"sandbox": sandbox, "sandbox_options": {}})
    domain = get_domain(config.domain)
    data = Path(config.data) if config.data else None
    if domain.secret_test_seed and data is None and config.test_seed_fingerprint is None:
        raise ConfigError(f"trial {config.trial} predates {config.domain}'s secret test split: it was scored on the "
                          "old public one, which is no longer generated, so it cannot be re-verified (run it again)")
    seed = seed_for(domain, data, config.test_seed_file, expect=config.test_seed_fingerprint)
    test = domain.load("test", data, seed=seed)
    evidence = EvidenceLog(paths.evidence)
    backend = trial_sandbox(config, domain, evidence)
    model = make_backend(config.task_model, [domain.sim_item(i, r) for i, r in enumerate(test)])  # test items only
    scratch = Path(tempfile.mkdtemp(prefix="verify-", dir=scratch_home()))
    scratch.chmod(0o711)
    timing = PhaseTiming(started_at=time.time())
    try:
        async with Gateway(model, model_name=config.task_model.name, log_path=paths.gateway_log,
                           socket_dir=scratch / "sockets", evidence=evidence) as gateway:
            verification = await verify_artifact(domain=domain, test_records=test, artifact=paths.artifact,
                                                 gateway=gateway, backend=backend, budget=config.budget,
                                                 evidence=evidence, label=config.trial, workdir=scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    timing.finished_at = time.time()
    timing.duration_sec = round(timing.finished_at - timing.started_at, 3)
    write_json_atomic(paths.verification, verification)
    result = TrialResult.load(paths.result) if paths.result.is_file() else None
    if result is None:
        from mac.trial.lifecycle import new_result

        result = new_result(config)
    result.test = test_score(verification)
    result.reason = failure_reason(verification)
    result.usage["reverify"] = verification.usage
    result.timings["reverify"] = timing
    result.evidence_count = len(evidence.records())
    result.status = finished_status(result, config.max_upstream_error_rate, skip=("verify",))
    write_json_atomic(paths.result, result)
    Index(paths.jobs_dir / "index.sqlite").record_trial(result, paths.dir)
    return result
