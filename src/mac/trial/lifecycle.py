"""One trial: prepare -> start services -> develop -> freeze -> verify -> audit -> results.

    result = await run_trial(config, TrialPaths(jobs_dir / job / trial))

Each phase records its timing and any exception in `result.timings`; a failing phase is recorded and the
trial goes on where that still makes sense (a meta-agent that crashes still has its workspace frozen and
verified). `run_trial` never raises except on cancellation: one failing trial never kills the job.

The audit (mac.audit) runs once the gateway is closed, whatever happened before (a failed development or
verification is evidence too), so it sees every log of the trial, including the verification's; it writes
audit.json and puts the verdict, its findings and the evidence count into result.json.

Every phase that reads what untrusted code wrote (the freeze, the audit) runs off the event loop with a deadline
(mac.offload), so one trial's workspace cannot stall the gateways, evaluation services and timers of the others;
a freeze or an audit past its deadline or limits is recorded as evidence. The scratch folder goes to the trash
(mac.trash): gone at once, deleted in the background however long a flooded workspace takes.

A trial whose controller died is continued with `run_trial(..., resume=plan)` (mac.trial.resume): the plan says
which phases still run and with what is left of the development budget. During development the result is saved
every HEARTBEAT_SEC with the dev time and usage so far, which is what a resume charges as already spent.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from mac.errors import MacError
from mac.evaluation.result import EvalResult
from mac.evidence import EvidenceLog
from mac.metaagents.trajectory import total_usage
from mac.offload import DeadlineExceeded, off_loop
from mac.paths import scratch_home
from mac.store.atomic import write_json_atomic
from mac.store.index import Index
from mac.store.models import DevScore, ExceptionInfo, PhaseTiming, TrialConfig, TrialResult
from mac.store.paths import TrialPaths
from mac.trash import discard
from mac.trial.outcome import finished_status, last_lines
from mac.trial.progress import TrialProgress

if TYPE_CHECKING:
    from mac.trial.resume import ResumePlan

HEARTBEAT_SEC = 5.0
"""How often a developing trial saves its dev time and usage (a resume may under-charge at most this much)."""
AUDIT_SEC = 900.0
"""Deadline of the whole audit (scan, evidence, LLM review); past it the trial stays unaudited, with evidence."""


def new_result(config: TrialConfig) -> TrialResult:
    return TrialResult(job=config.job, trial=config.trial, domain=config.domain, meta_agent=config.meta_agent,
                       meta_agent_options=config.meta_agent_options, seed=config.seed,
                       task_model=config.task_model.name, simulated=config.task_model.simulated,
                       test_seed_fingerprint=config.test_seed_fingerprint)


async def run_trial(config: TrialConfig, paths: TrialPaths, *, progress: TrialProgress | None = None,
                    index: Index | None = None, resume: ResumePlan | None = None) -> TrialResult:
    """Run one trial in `paths.dir`; returns its result (also written to result.json and the index).
    With `resume`, continue an interrupted trial from the plan's phase (see mac.trial.resume)."""
    return await _Trial(config, paths, progress or TrialProgress(config.trial), index, resume).run()


class _Trial:
    def __init__(self, config: TrialConfig, paths: TrialPaths, progress: TrialProgress, index: Index | None,
                 plan: ResumePlan | None = None):
        self.config, self.paths, self.progress, self.index = config, paths, progress, index
        self.plan = plan
        self.result = plan.start_result(config) if plan is not None else new_result(config)
        self.evidence: EvidenceLog | None = None
        self.scratch: Path | None = None
        self.interrupted = False

    # -- bookkeeping ----------------------------------------------------------
    @contextlib.contextmanager
    def phase(self, name: str):
        timing = self.result.timings[name] = PhaseTiming(started_at=time.time())
        self.progress.phase = name
        self.save()
        try:
            yield timing
        except asyncio.CancelledError:
            raise  # interrupted, not finished: a resume picks this phase up again
        except Exception as exc:
            timing.error = _exception_info(exc)
            if self.result.error is None:
                self.result.error = timing.error
            self._end(timing)
            raise
        self._end(timing)

    @staticmethod
    def _end(timing: PhaseTiming) -> None:
        timing.finished_at = time.time()
        timing.duration_sec = round(timing.finished_at - timing.started_at, 3)

    def save(self) -> None:
        write_json_atomic(self.paths.result, self.result)
        if self.index is not None:
            self.index.record_trial(self.result, self.paths.dir)

    # -- the trial ------------------------------------------------------------
    async def run(self) -> TrialResult:
        self.progress.status, self.progress.started_at = "running", time.time()
        try:
            self.paths.create()
            if self.plan is None or not self.paths.config.exists():
                self._record_test_seed()
                write_json_atomic(self.paths.config, self.config)
            if not self.paths.audit.exists():
                write_json_atomic(self.paths.audit, {"verdict": None})
            self.paths.egress.touch()
            self.paths.evidence.touch()
            self.evidence = EvidenceLog(self.paths.evidence)
            await self._phases()
        except asyncio.CancelledError:
            self.interrupted = True  # the controller is stopping (Ctrl-C, SIGTERM): `mac run --resume` continues
            raise
        except Exception as exc:  # noqa: BLE001 - recorded; the job goes on
            self.result.error = self.result.error or _exception_info(exc)
            self.result.reason = self.result.reason or f"harness error: {type(exc).__name__}: {exc}"
        finally:
            self._finish()
        return self.result

    def _record_test_seed(self) -> None:
        """A new trial records which secret test split it runs on (arith), even when its config came without it."""
        from mac.trial.setup import with_test_seed

        with contextlib.suppress(MacError):  # a bad domain or seed file fails the prepare phase, with the reason
            self.config = with_test_seed(self.config)
            self.result.test_seed_fingerprint = self.config.test_seed_fingerprint

    def _finish(self) -> None:
        result = self.result
        if self.interrupted:
            result.status, result.finished_at = "interrupted", None
        else:
            result.status = finished_status(result, self.config.max_upstream_error_rate)
            result.finished_at = time.time()
        result.meta_agent_usage = total_usage(self.paths.trajectory)
        if result.integrity_verdict is None:  # not audited: the audit's count (with derived items) stands otherwise
            result.evidence_count = len(self.evidence.records()) if self.evidence is not None else 0
        self.progress.phase, self.progress.status, self.progress.deadline = "done", result.status, None
        self.progress.reason = result.reason
        self.progress.test = result.test.accuracy if result.test else None
        try:
            self.save()
        finally:
            # an interrupted trial's scratch holds its live workspace and tool log: the resume recovers both
            if not self.interrupted:
                discard(self.scratch)  # at once; deleting a flooded workspace goes on in the background

    def runs(self, phase: str) -> bool:
        """Does `phase` run in this trial? (All of them, unless a resume plan says where to pick up.)"""
        return self.plan is None or phase in self.plan.phases

    def _log(self) -> EvidenceLog:
        if self.evidence is None:
            raise RuntimeError("the trial's evidence log is opened before any phase")
        return self.evidence

    def _scratch(self) -> Path:
        if self.scratch is None:
            raise RuntimeError("the trial's scratch folder is made before any phase")
        return self.scratch

    async def _phases(self) -> None:
        with self.phase("prepare"):
            setup = self._prepare()
        try:
            if self.runs("verify"):
                await self._service_phases(setup)
        except asyncio.CancelledError:
            raise  # no audit of a half trial: the resume audits it when it is done
        except BaseException:
            await self._audit_phase(setup)
            raise
        await self._audit_phase(setup)

    async def _audit_phase(self, setup) -> None:
        with contextlib.suppress(Exception), self.phase("audit"):
            await self._audit(setup)

    async def _service_phases(self, setup) -> None:
        """start -> develop -> freeze -> verify, with the gateway up (closed when this returns).

        The integrity audit (static scan included) runs after this, on the whole trial folder: it needs the
        verification's logs too (e.g. the dev-to-test score gap), and must run even when a phase failed."""
        from mac.gateway import Gateway

        async with contextlib.AsyncExitStack() as stack:
            with self.phase("start"):
                gateway = await stack.enter_async_context(Gateway(
                    setup.model_backends["dev"], model_name=self.config.task_model.name,
                    log_path=self.paths.gateway_log, socket_dir=self._scratch() / "sockets", evidence=self.evidence,
                    phase_backends=setup.model_backends))
            if self.runs("develop"):
                with contextlib.suppress(Exception), self.phase("develop"):  # a crash still freezes the workspace
                    await self._develop(setup, gateway)
            if self.runs("freeze"):
                live = setup.workspace if self.runs("develop") else self.paths.workspace
                with contextlib.suppress(MacError, OSError), self.phase("freeze"):
                    await self._freeze(live, setup.adapter.credentials())
            with self.phase("verify"):
                await self._verify(setup, gateway)

    async def _audit(self, setup) -> None:
        """Audit the trial folder (dev and test answers stay on this trusted side); the verdict goes into
        result.json."""
        from mac.audit import AuditorConfig, audit_trial

        auditor = None
        if self.config.auditor:
            auditor = AuditorConfig.parse(self.config.auditor, self.config.auditor_base_url)
        # in a thread with its own loop: the scan reads the workspace the meta-agent wrote, and a late audit must
        # not write audit.json after the trial moved on (write=False; written here once it is in time)
        try:
            report = await off_loop(lambda _d: asyncio.run(audit_trial(
                self.paths.dir, domain=setup.domain, dev_records=setup.dev, test_records=setup.test, auditor=auditor,
                write=False)), seconds=AUDIT_SEC, what="audit")
        except DeadlineExceeded as exc:
            self._log().add("audit", "audit_timeout", label=self.config.trial, seconds=exc.seconds)
            raise
        write_json_atomic(self.paths.audit, report)
        fields = report.result_fields()
        self.result.integrity_verdict = fields["integrity_verdict"]
        self.result.findings = fields["findings"]
        self.result.evidence_count = fields["evidence_count"]

    def _prepare(self):
        from mac.trial.setup import prepare_trial

        self.scratch = Path(tempfile.mkdtemp(prefix=f"trial-{self.config.trial[:40]}-", dir=scratch_home()))
        self.scratch.chmod(0o711)
        resuming = self.plan is not None and self.plan.policy == "continue-development"
        setup = prepare_trial(self.config, self.paths, self.evidence, self.scratch, resume=resuming)
        self.result.live_workspace = None if setup.workspace == self.paths.workspace else str(setup.workspace)
        self.result.scratch = str(self.scratch)
        self.result.sandbox = setup.sandbox.describe()
        self.result.packages = setup.packages
        self.result.budget_use.dev_time_limit_sec = self.config.budget.dev_time_sec
        self.result.budget_use.dev_quota = self.config.budget.dev_quota
        self.result.budget_use.verify_quota = self.config.budget.verify_quota
        return setup

    async def _develop(self, setup, gateway) -> None:
        from mac.trial.session import DevSession

        plan = self.plan
        session = DevSession(self.config, self.paths, setup, gateway, self.evidence, self._scratch(), self.progress,
                             **(plan.session_options() if plan is not None else {}))
        heartbeat = asyncio.ensure_future(self._heartbeat(session))
        try:
            await session.run()
        finally:
            heartbeat.cancel()
            result = self.result
            result.usage["dev"] = result.budget_use.dev_usage = self._dev_usage(session.dev_usage())
            result.budget_use.dev_time_sec = round(session.spent_sec + session.dev_time_sec, 3)
            result.meta_agent_exit = session.exit
            if session.exit is not None:  # why it ended, where the summary shows it (collect scrubbed the file)
                session.exit.stderr_tail = last_lines(self.paths.trajectory / "stderr.txt")
            if plan is None:
                result.dev_evals, best = session.evaluations, session.best()
            else:
                history = plan.dev_history(self.paths)
                result.dev_evals, best = len(history), plan.best_dev(history, len(setup.dev))
            if best is not None:
                result.best_dev = DevScore(accuracy=best["accuracy"], correct=best["correct"], total=best["total"],
                                           run_id=best["run_id"], time_sec=best["time_sec"], first_k=best["first_k"])

    def _dev_usage(self, session_usage):
        """The dev usage of the whole trial: this session's plus what interrupted runs spent before it."""
        if self.plan is None:
            return session_usage
        from mac.trial.resume import add_usage

        return add_usage(self.plan.dev_usage_before, session_usage)

    async def _heartbeat(self, session) -> None:
        """Save the dev time and usage so far every HEARTBEAT_SEC: what a resume charges if the controller dies."""
        while True:
            await asyncio.sleep(HEARTBEAT_SEC)
            if session.started_at is None:
                continue
            self.result.budget_use.dev_time_sec = round(session.spent_sec + time.time() - session.started_at, 3)
            self.result.budget_use.dev_usage = self._dev_usage(session.dev_usage())
            self.result.dev_evals = self.progress.dev_evals
            with contextlib.suppress(OSError):
                self.save()

    async def _freeze(self, live: Path, secrets: dict[str, str]):
        """Freeze the workspace into artifact/ off the event loop (mac.trial.freeze); refusals become evidence."""
        from mac.sandbox.walk import TreeRefused
        from mac.trial.freeze import FREEZE_SEC, freeze_workspace

        try:
            frozen = await off_loop(lambda d: freeze_workspace(live, self.paths, secrets, d), seconds=FREEZE_SEC,
                                    what="freeze")
        except MacError as exc:
            self.result.reason = f"no artifact: the workspace could not be frozen: {exc}"
            detail = exc.detail() if isinstance(exc, TreeRefused) else {}
            if isinstance(exc, DeadlineExceeded):
                detail = {"limit": "seconds", "allowed": exc.seconds}
            self._log().add("freeze", "freeze_refused", label=self.config.trial, reason=str(exc), **detail)
            raise
        if frozen.redacted:
            self._log().add("freeze", "secret_redacted", label=f"the meta-agent's credentials in "
                              f"{len(frozen.redacted)} workspace file(s), redacted from the artifact",
                              files=frozen.redacted[:20])
        if frozen.odd_names:
            self._log().add("freeze", "control_char_names", label=f"{len(frozen.odd_names)} workspace entries "
                              "refused: their names hold control characters", paths=frozen.odd_names[:20])
        snapshot = frozen.snapshot
        self.result.artifact_sha256 = snapshot.sha256
        self.result.artifact_files, self.result.artifact_bytes = snapshot.files, snapshot.bytes
        return snapshot

    async def _verify(self, setup, gateway) -> None:
        from mac.trial.verify import failure_reason, test_score, verify_artifact

        self.progress.deadline = time.time() + self.config.budget.verify_timeout_sec
        verification: EvalResult = await verify_artifact(
            domain=setup.domain, test_records=setup.test, artifact=self.paths.artifact, gateway=gateway,
            backend=setup.sandbox, budget=self.config.budget, evidence=self.evidence, label=self.config.trial,
            workdir=self.scratch)
        write_json_atomic(self.paths.verification, verification)
        self.result.test = test_score(verification)
        if self.result.reason is None:  # a freeze failure already said why there is nothing to verify
            self.result.reason = failure_reason(verification)
        self.result.usage["verify"] = self.result.budget_use.verify_usage = verification.usage


def _exception_info(exc: BaseException) -> ExceptionInfo:
    return ExceptionInfo(type=type(exc).__name__, message=str(exc)[:2000],
                         traceback="".join(traceback.format_exception(exc))[-8000:])
