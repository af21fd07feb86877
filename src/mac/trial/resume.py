"""Resuming a trial whose controller died (`mac run --resume JOB`): where to pick up, and with what budget.

    plan = plan_trial(TrialPaths(job_dir / trial), config)
    if plan.policy != "keep":
        recover_workspace(paths, plan)
        result = await run_trial(config, paths, resume=plan)

The plan reads only the trial folder (result.json, the logs, artifact/), from the last completed phase:

- finished trials ("completed", "infrastructure_error" or "failed") are kept as they are, byte for byte;
  "running" (the controller died) and "interrupted" (it was stopped: Ctrl-C, SIGTERM) ones are continued;
  with `retry_failed` (`--retry-failed`), "failed" and "infrastructure_error" trials are run again from the
  start ("retry"): their folder moves to <job>/retried/<trial>.attempt-N first, so nothing is lost;
- no result.json, or nothing past prepare/start: "start-over" (the whole development budget, nothing was spent);
- verification done (a test score), audit interrupted: "audit-only";
- artifact/ frozen (its content hash matches the sha256 in result.json or trajectory/freeze.json):
  "verify-artifact", the verification and the audit;
- development over, freeze interrupted: "freeze-workspace";
- development interrupted: the budget was partly spent. The meta-agent's process state is lost, its workspace
  is not. With at least `min_dev_left(budget)` seconds and some model quota left, "continue-development":
  the meta-agent is started again on the workspace as it was, with the REMAINING time and quota (time spent =
  the dev time saved every few seconds by the dead controller, plus its logs' last writes; quota spent = the
  dev calls in gateway.jsonl, or the saved usage if larger). Otherwise "freeze-workspace": what the workspace
  holds is frozen and verified.

Every resume appends a `ResumeRecord` to result.json (`resumed`), with the interrupted run's phase timings.
The trial's files are never deleted: logs are appended to, a live workspace left in a stale scratch folder is
copied back into workspace/ (the older workspace/, if it differs, is kept as workspace.before-resume-N/).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mac.config import Budget, Quota
from mac.errors import MacError
from mac.kinds import ResumePolicy
from mac.paths import scratch_home
from mac.records import Usage
from mac.sandbox.snapshot import content_hash, snapshot_workspace
from mac.store.atomic import read_jsonl
from mac.store.models import ResumeRecord, TrialConfig, TrialResult
from mac.store.paths import RETRIED_FOLDER, TrialPaths

ALL_PHASES = ("prepare", "start", "develop", "freeze", "verify", "audit")
PHASES_OF = {
    "keep": (),
    "start-over": ALL_PHASES,
    "continue-development": ALL_PHASES,
    "freeze-workspace": ("prepare", "start", "freeze", "verify", "audit"),
    "verify-artifact": ("prepare", "start", "verify", "audit"),
    "audit-only": ("prepare", "audit"),
    "retry": ALL_PHASES,
}
RETRY_STATUSES = ("failed", "infrastructure_error")
"""What `--retry-failed` runs again, from the start (the earlier attempt is kept under <job>/retried/)."""
MIN_DEV_LEFT_SEC = 10.0
MIN_DEV_LEFT_FRACTION = 0.02
HEARTBEAT_SLACK_SEC = 5.0
"""The most a dead controller's last saved dev time can lag behind (mac.trial.lifecycle.HEARTBEAT_SEC)."""
_METERED = ("requests", "input_tokens", "output_tokens")


def min_dev_left(budget: Budget) -> float:
    """Below this much development time left, restarting the meta-agent is not worth it: freeze instead."""
    return max(MIN_DEV_LEFT_SEC, MIN_DEV_LEFT_FRACTION * budget.dev_time_sec)


@dataclass
class ResumePlan:
    """What a resume does with one trial. `phases` run again; the others keep their recorded outcome."""

    trial: str
    policy: ResumePolicy
    from_phase: str
    why: str
    dev_spent_sec: float = 0.0
    dev_left_sec: float = 0.0
    dev_usage_before: Usage = field(default_factory=Usage)
    dev_quota_left: Quota | None = None
    dev_evals_before: int = 0
    recovered_workspace: str | None = None
    recovered_logs: str | None = None
    result_path: Path | None = None

    @property
    def phases(self) -> tuple[str, ...]:
        return PHASES_OF[self.policy]

    def start_result(self, config: TrialConfig) -> TrialResult:
        """The result a resumed run continues: the interrupted one (or a new one) with this resume recorded."""
        from mac.trial.lifecycle import new_result

        path = self.result_path
        result = TrialResult.load(path) if path is not None and path.is_file() else None
        result = result or new_result(config)
        result.resumed.append(ResumeRecord(
            from_phase=self.from_phase, at=time.time(), policy=self.policy, dev_spent_sec=self.dev_spent_sec,
            dev_left_sec=self.dev_left_sec, dev_usage_before=self.dev_usage_before, reason=self.why,
            recovered_workspace=self.recovered_workspace, recovered_logs=self.recovered_logs,
            timings_before={k: v.model_copy() for k, v in result.timings.items()}))
        result.status, result.finished_at = "running", None
        if self.policy in ("start-over", "continue-development", "freeze-workspace"):
            result.artifact_sha256, result.test = None, None  # to be made again
        if self.policy == "verify-artifact" and result.artifact_sha256 is None and path is not None:
            _adopt_freeze_record(result, path.parent / "trajectory" / "freeze.json")
        if self.from_phase == "develop":  # the interrupted development's share, charged before any new one
            result.budget_use.dev_time_sec = self.dev_spent_sec
            result.budget_use.dev_usage = result.usage["dev"] = self.dev_usage_before
            result.dev_evals = self.dev_evals_before
        return result

    def session_options(self) -> dict[str, Any]:
        """DevSession arguments: the development time and quota that are left."""
        if self.policy != "continue-development":
            return {}
        return {"dev_seconds": self.dev_left_sec, "quota": self.dev_quota_left, "spent_sec": self.dev_spent_sec}

    def dev_history(self, paths: TrialPaths) -> list[dict[str, Any]]:
        """Every dev evaluation of the trial, before and after the resume (dev_evals.jsonl is the record)."""
        return read_jsonl(paths.dev_evals)

    @staticmethod
    def best_dev(history: list[dict[str, Any]], n_dev: int) -> dict[str, Any] | None:
        """The best successful evaluation on the whole dev split (else on a first_k subset), as the service picks."""
        done = [h for h in history if h.get("success") and h.get("total", 0) > 0]
        full = [h for h in done if h["total"] >= n_dev]
        pool = full or done
        return max(pool, key=lambda h: (h["accuracy"], h["total"], -h["time_sec"])) if pool else None


def plan_trial(paths: TrialPaths, config: TrialConfig, *, retry_failed: bool = False) -> ResumePlan:
    """Decide how to continue the trial in `paths` (reads its folder, changes nothing). With `retry_failed`,
    a "failed" or "infrastructure_error" trial is run again from the start ("retry")."""
    plan = _decide(paths, config, retry_failed)
    plan.result_path = paths.result
    return plan


def _decide(paths: TrialPaths, config: TrialConfig, retry_failed: bool = False) -> ResumePlan:
    name = config.trial
    if not paths.result.is_file():
        return ResumePlan(name, "start-over", "prepare", "the trial had not started (no result.json)")
    result = TrialResult.load(paths.result)
    if retry_failed and result.status in RETRY_STATUSES:
        return ResumePlan(name, "retry", "prepare", f"it was {result.status}: run again from the start")
    if result.status not in ("running", "interrupted"):
        return ResumePlan(name, "keep", "", f"already {result.status}")
    timings = result.timings
    finished = {phase for phase, t in timings.items() if t.finished_at is not None}
    interrupted = next((p for p in reversed(ALL_PHASES) if p in timings and p not in finished), "prepare")
    if "verify" in finished and result.test is not None:
        return ResumePlan(name, "audit-only", "audit", "the test split was verified; the audit was interrupted")
    frozen = frozen_sha256(paths, result)
    if frozen is not None:
        return ResumePlan(name, "verify-artifact", interrupted, f"artifact/ is frozen (sha256 {frozen[:12]})")
    if "freeze" in finished and result.artifact_sha256 is None:
        return ResumePlan(name, "verify-artifact", interrupted, "the freeze had failed: nothing to verify")
    if "develop" in finished:
        return ResumePlan(name, "freeze-workspace", interrupted, "development was over; the freeze was interrupted")
    if "develop" not in timings:
        return ResumePlan(name, "start-over", interrupted, "development had not started")
    return _after_development_cut(paths, config, result)


def _after_development_cut(paths: TrialPaths, config: TrialConfig, result: TrialResult) -> ResumePlan:
    budget = config.budget
    spent = dev_time_spent(paths, result)
    left = max(0.0, budget.dev_time_sec - spent)
    used = dev_usage_spent(paths, result)
    quota = quota_left(budget.dev_quota, used)
    evals = len(read_jsonl(paths.dev_evals))
    common: dict[str, Any] = dict(from_phase="develop", dev_spent_sec=round(spent, 3), dev_left_sec=round(left, 3),
                  dev_usage_before=used, dev_quota_left=quota, dev_evals_before=evals)
    if left < min_dev_left(budget):
        return ResumePlan(config.trial, "freeze-workspace", why=f"only {left:.0f} s of development left", **common)
    if quota.requests == 0 or quota.output_tokens == 0 or quota.input_tokens == 0:
        return ResumePlan(config.trial, "freeze-workspace", why="the dev model quota is spent", **common)
    return ResumePlan(config.trial, "continue-development",
                      why=f"{left:.0f} s of {budget.dev_time_sec:.0f} s of development left", **common)


def frozen_sha256(paths: TrialPaths, result: TrialResult) -> str | None:
    """The artifact's sha256 when artifact/ is complete (its content hash matches the recorded one), else None."""
    recorded = result.artifact_sha256
    freeze = paths.trajectory / "freeze.json"
    if recorded is None and freeze.is_file():
        try:
            recorded = json.loads(freeze.read_text(encoding="utf-8")).get("sha256")
        except (OSError, ValueError):
            recorded = None
    if not recorded or not paths.artifact.is_dir():
        return None
    try:
        return recorded if content_hash(paths.artifact) == recorded else None
    except (MacError, OSError):
        return None


def _adopt_freeze_record(result: TrialResult, freeze: Path) -> None:
    """The controller died after freezing, before saving the artifact's hash: take it from freeze.json."""
    try:
        record = json.loads(freeze.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    result.artifact_sha256 = record.get("sha256")
    result.artifact_files, result.artifact_bytes = int(record.get("files", 0)), int(record.get("bytes", 0))


def dev_time_spent(paths: TrialPaths, result: TrialResult) -> float:
    """Development seconds already used: the last saved figure, plus the time the logs show the dead controller
    still ran after that save (at most one heartbeat)."""
    saved = result.budget_use.dev_time_sec
    try:
        saved_at = paths.result.stat().st_mtime
    except OSError:
        return saved
    last_write = max((p.stat().st_mtime for p in (paths.dev_evals, paths.gateway_log, paths.evidence) if p.is_file()),
                     default=saved_at)
    develop = result.timings.get("develop")
    if develop is not None and saved == 0.0:  # died before the first heartbeat: count from the phase's start
        return max(0.0, min(last_write, time.time()) - develop.started_at)
    return saved + min(HEARTBEAT_SLACK_SEC, max(0.0, last_write - saved_at))


def dev_usage_spent(paths: TrialPaths, result: TrialResult) -> Usage:
    """Dev model usage so far: the dev calls in gateway.jsonl, or the last saved figure where that is larger."""
    logged = Usage()
    for line in read_jsonl(paths.gateway_log):
        if line.get("phase") == "dev" and line.get("status") == 200:
            logged.requests += int(line.get("n") or 1)
            logged.input_tokens += int(line.get("input_tokens") or 0)
            logged.output_tokens += int(line.get("output_tokens") or 0)
    saved = result.budget_use.dev_usage
    return Usage(**{k: max(getattr(logged, k), getattr(saved, k)) for k in _METERED},
                 cost_usd=saved.cost_usd, refused=saved.refused, upstream_errors=saved.upstream_errors)


def quota_left(quota: Quota, used: Usage) -> Quota:
    """`quota` minus what was used (rate limits unchanged: they are per minute)."""
    update: dict[str, Any] = {}
    for name in (*_METERED, "cost_usd"):
        limit = getattr(quota, name)
        if limit is not None:
            update[name] = max(0, limit - getattr(used, name))
    return quota.model_copy(update=update)


def add_usage(a: Usage, b: Usage) -> Usage:
    return a.plus(b)


def recover_workspace(paths: TrialPaths, plan: ResumePlan) -> None:
    """Copy a live workspace the dead controller left in its scratch folder back into workspace/ (under the
    snapshot rules: the meta-agent wrote it) when the plan still needs it, then remove that stale scratch folder
    (for any plan: a kept trial's files are not touched)."""
    if not paths.result.is_file():
        return
    if plan.policy == "retry":
        kept = set_aside(paths)
        plan.why += f"; the earlier attempt is kept in {kept.relative_to(paths.job_dir)}"
        return
    result = TrialResult.load(paths.result)
    live = result.live_workspace
    scratch = Path(result.scratch) if result.scratch else Path(live).parent if live else None
    if scratch is None or not is_own_scratch(scratch):
        return
    if live and Path(live).is_dir() and plan.policy in ("continue-development", "freeze-workspace", "verify-artifact"):
        _copy_back(Path(live), paths)
        plan.recovered_workspace = live
    if plan.policy != "keep":
        plan.recovered_logs = keep_interrupted_logs(scratch / "agent-logs", paths)
    shutil.rmtree(scratch, ignore_errors=True)


def set_aside(paths: TrialPaths) -> Path:
    """Move a finished trial's folder to <job>/retried/<trial>.attempt-N (N = 1, 2, ...), so a retry starts
    clean and nothing of the earlier attempt is lost. Returns where it went."""
    folder = paths.job_dir / RETRIED_FOLDER
    folder.mkdir(exist_ok=True)
    number = 1
    while (folder / f"{paths.name}.attempt-{number}").exists():
        number += 1
    target = folder / f"{paths.name}.attempt-{number}"
    os.replace(paths.dir, target)
    return target


def keep_interrupted_logs(logs: Path, paths: TrialPaths) -> str | None:
    """The dead session's tool log, converted and scrubbed by its adapter into trajectory/interrupted-N (its
    collect never ran). Returns that folder, why nothing was kept, or None when there was nothing to keep."""
    from mac.metaagents import get_metaagent

    if not logs.is_dir() or not any(p.is_file() and not p.is_symlink() for p in logs.iterdir()):
        return None
    try:
        config = TrialConfig.load(paths.config)
        adapter = get_metaagent(config.meta_agent, **config.meta_agent_options)
    except (MacError, OSError, ValueError) as exc:  # e.g. its key is not in this environment: nothing to scrub with
        return f"not kept: the meta-agent's adapter could not be built to scrub it ({exc})"
    number = 1
    while (paths.trajectory / f"interrupted-{number}").exists():
        number += 1
    folder = paths.trajectory / f"interrupted-{number}"
    return str(folder.relative_to(paths.dir)) if adapter.collect_interrupted(logs, folder) else None


def is_own_scratch(folder: Path) -> bool:
    """A trial scratch folder of ours (never remove anything else a result.json could point to)."""
    try:
        return folder.parent.resolve() == scratch_home().resolve() and folder.name.startswith("trial-")
    except OSError:
        return False


def _copy_back(live: Path, paths: TrialPaths) -> None:
    incoming = paths.dir / ".workspace-recovering"
    shutil.rmtree(incoming, ignore_errors=True)  # a half copy from an earlier resume that died too
    snapshot = snapshot_workspace(live, incoming)
    current = paths.workspace
    if current.is_dir() and any(current.iterdir()):
        if content_hash(current) == snapshot.sha256:
            shutil.rmtree(incoming)
            return
        keep = 1
        while (paths.dir / f"workspace.before-resume-{keep}").exists():
            keep += 1
        os.replace(current, paths.dir / f"workspace.before-resume-{keep}")
    elif current.is_dir():
        current.rmdir()
    os.replace(incoming, current)
