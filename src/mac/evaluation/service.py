"""The dev evaluation service: the HTTP API a meta-agent calls during development (MAC-compatible).

    POST /evaluate/agent  {agent_file, split: "eval"|"dev", timeout, first_k, kill_running, case_timeout (code: 10)}
        -> 200 EvalResult: success, accuracy (0-100), correct, total, covered, coverage, scores, missing_predictions,
           detailed_results, predictions_content, partial, timed_out, run_id, usage (+ error, artifact_stderr, ...);
           code domains add case_timeout, leave the program out of detailed_results and predictions_content empty
        -> 400 bad request (agent_file outside the workspace, not a file, bad field)
        -> 403 split "test" (always: the test split is not reachable from a sandbox)
        -> 409 an evaluation is running (send kill_running: true to stop it and start yours)
        -> 503 the service is closing (development is over)
    GET /health   {"status": "ok"}
    GET /info     the endpoints, the request/response contract, the domain and its dev split size
    GET /budget   development time left, the dev model quota, what is used and what is left

It listens on a unix socket of the controller; the trial relays that socket to 127.0.0.1:PORT inside the
meta-agent's sandbox (EVALUATION_API_URL). Each evaluation runs the artifact in a fresh artifact sandbox on a
snapshot of the workspace (never the live folder), with the trial's dev gateway token, so dev evaluations draw
on the dev model budget. Every request that ran is appended to `dev_evals.jsonl`; refusals and probing patterns
go to the evidence log (source "evaluation"). Memory stays flat however many evaluations a trial runs: the
service keeps a count, the best evaluation and the last HISTORY_KEPT summaries; the rest is on disk. Work on the
workspace (snapshots, hashes) runs off the event loop with a deadline (mac.offload).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any
from collections.abc import Callable

from aiohttp import web

from mac.config import Budget
from mac.errors import ArtifactError
from mac.evaluation.agent_file import resolve_agent_file
from mac.evaluation.budget_view import budget_view, info_view
from mac.evaluation.result import EvalResult
from mac.evidence import EvidenceLog
from mac.offload import off_loop
from mac.paths import scratch_home
from mac.sandbox.snapshot import content_hash, snapshot_workspace
from mac.store.atomic import append_jsonl
from mac.trash import discard

DEV_SPLITS = ("eval", "dev")
PROBE_FIRST_K = 3
"""Evaluations on at most this many problems count as probes; many of them are flagged as a pattern."""
PROBE_THRESHOLD = 25
HISTORY_KEPT = 50
"""Summaries of the most recent evaluations kept in memory (dev_evals.jsonl has every one)."""


class EvaluationService:
    """One trial's evaluation service. `start(socket)` serves it; `close()` stops it and any running evaluation."""

    def __init__(self, *, domain: Any, records: list, workspace: Path, gateway: Any, token: str, backend: Any,
                 budget: Budget, deadline: float, started_at: float | None = None, log_path: Path | None = None,
                 evidence: EvidenceLog | None = None, workdir: Path | None = None, label: str = "trial",
                 model_name: str = "task-model", simulated: bool = False,
                 on_result: Callable[[dict[str, Any]], None] | None = None, probe_threshold: int = PROBE_THRESHOLD,
                 history_kept: int = HISTORY_KEPT):
        self.domain, self.records, self.workspace = domain, records, Path(workspace)
        self.gateway, self.token, self.backend, self.budget = gateway, token, backend, budget
        self.deadline = deadline
        self.started_at = started_at if started_at is not None else time.time()
        self.log_path, self.evidence, self.workdir, self.label = log_path, evidence, workdir, label
        self.model_name, self.simulated, self.on_result = model_name, simulated, on_result
        self.probe_threshold = probe_threshold
        self.history: deque[dict[str, Any]] = deque(maxlen=history_kept)
        """The last `history_kept` evaluations' summaries (as in dev_evals.jsonl, which has them all)."""
        self.evaluations = 0
        self._best: dict[bool, dict[str, Any]] = {}
        self._running: tuple[asyncio.Task, str] | None = None
        self._refusals: dict[str, int] = {}
        self._probes = 0
        self._count = 0
        self._site_runner: web.AppRunner | None = None
        self._closed = False

    # -- serving --------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_post("/evaluate/agent", self._evaluate)
        app.router.add_get("/health", self._health)
        app.router.add_get("/info", self._info)
        app.router.add_get("/budget", self._budget)
        return app

    async def start(self, socket_path: Path) -> None:
        """Serve on the unix socket `socket_path` (made connectable by sandbox uids: the folder guards it)."""
        self._site_runner = web.AppRunner(self.app(), access_log=None)
        await self._site_runner.setup()
        await web.UnixSite(self._site_runner, str(socket_path)).start()
        Path(socket_path).chmod(0o666)

    async def close(self) -> None:
        self._closed = True  # first: a request waiting for a kill must not start a run once development is over
        while self._running is not None:
            task = self._running[0]
            await self.kill_running("service closed")
            if self._running is not None and self._running[0] is task:  # done, yet not cleared: never loop forever
                self._running = None
        if self._site_runner is not None:
            await self._site_runner.cleanup()
            self._site_runner = None

    async def kill_running(self, why: str = "killed") -> None:
        if self._running is None:
            return
        task, _ = self._running
        task.cancel(why)
        await asyncio.gather(task, return_exceptions=True)

    # -- queries --------------------------------------------------------------
    def best(self) -> dict[str, Any] | None:
        """The best successful evaluation on the whole dev split (or on a first_k subset when none was full)."""
        return self._best.get(True) or self._best.get(False)

    def _rank(self, entry: dict[str, Any]) -> None:
        if not entry["success"] or entry["total"] <= 0:
            return
        full = entry["total"] >= len(self.records)
        current = self._best.get(full)
        if current is None or _score(entry) > _score(current):
            self._best[full] = entry

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _info(self, request: web.Request) -> web.Response:
        return web.json_response(info_view(self))

    async def _budget(self, request: web.Request) -> web.Response:
        return web.json_response(budget_view(self))

    # -- evaluate -------------------------------------------------------------
    async def _evaluate(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return self._refuse(400, "bad_json", "the body must be a JSON object")
        if not isinstance(body, dict):
            return self._refuse(400, "bad_json", "the body must be a JSON object")
        split = body.get("split", "eval")
        if split == "test":
            return self._refuse(403, "test_split", "the test split is not available during development; "
                                "evaluate on split 'eval' (the dev split)", agent_file=body.get("agent_file"))
        if split not in DEV_SPLITS:
            return self._refuse(400, "bad_split", f"unknown split {split!r}: use 'eval' (or 'dev')")
        try:
            rel = resolve_agent_file(self.workspace, body.get("agent_file", "agent.py"))
            timeout, first_k = self._timeout(body.get("timeout")), self._first_k(body.get("first_k"))
            check_case_timeout(self.domain, body.get("case_timeout"))
        except ArtifactError as exc:
            return self._refuse(400, "bad_request", str(exc), agent_file=str(body.get("agent_file"))[:300])
        if self._running is not None:
            if body.get("kill_running") is not True:
                return self._refuse(409, "busy", f"evaluation {self._running[1]} is still running: wait for it, "
                                    "or send kill_running: true to stop it", running=self._running[1])
            await self.kill_running("replaced by a request with kill_running")
            if self._running is not None:  # another request started while we waited for the kill
                return self._refuse(409, "busy", f"evaluation {self._running[1]} started meanwhile: retry",
                                    running=self._running[1])
        if self._closed:  # checked after the last await: nothing starts once close() began
            return self._refuse(503, "closed", "development is over: no more evaluations")
        return await self._run(rel, timeout, first_k)

    def _timeout(self, value: Any) -> float:
        limit = self.budget.eval_timeout_sec
        if value is None:
            timeout = limit
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            timeout = min(float(value), limit)
        else:
            raise ArtifactError("'timeout' must be a positive number of seconds")
        return max(1.0, min(timeout, self.deadline - time.time()))

    def _first_k(self, value: Any) -> int | None:
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ArtifactError("'first_k' must be a positive integer (or null for the whole dev split)")
        return value if value < len(self.records) else None

    async def _run(self, rel: str, timeout: float, first_k: int | None) -> web.Response:
        self._count += 1
        run_id = f"{self.label}-dev-{self._count}-{uuid.uuid4().hex[:6]}"
        task = asyncio.ensure_future(self._execute(rel, timeout, first_k, run_id))
        self._running = (task, run_id)
        # shield: a client that hangs up does not stop the run (kill_running and close() do)
        result = await asyncio.shield(task)
        return web.json_response(self._response(result), dumps=_dumps)

    async def _execute(self, rel: str, timeout: float, first_k: int | None, run_id: str) -> EvalResult:
        """Run, grade and record one evaluation; never raises (a killed or failed run answers success false)."""
        from mac.evaluation.runner import SNAPSHOT_LIMITS, run_artifact

        started = time.time()
        killed, agent_sha256, staged = False, "", None
        try:
            artifact = self.workspace / rel
            if "/" in rel:  # nested: copy first, so no folder on the way can be swapped for a symlink meanwhile
                staged = Path(tempfile.mkdtemp(prefix="stage-", dir=self.workdir or scratch_home()))
                artifact = (await self._stage(staged / "ws", run_id)).path / rel
            agent_sha256 = await off_loop(lambda d: content_hash(artifact, limits=SNAPSHOT_LIMITS, deadline=d),
                                          seconds=SNAPSHOT_LIMITS.seconds, what="agent file hash")
            result = await run_artifact(
                domain=self.domain, records=self.records, split="dev", artifact=artifact,
                gateway=self.gateway, token=self.token, backend=self.backend, timeout=timeout, first_k=first_k,
                limits=self.budget.eval_limits, evidence=self.evidence, run_id=run_id, workdir=self.workdir)
        except asyncio.CancelledError:
            killed = True
            result = EvalResult(success=False, run_id=run_id, split="dev", simulated=self.simulated,
                                error="evaluation killed (a request with kill_running, or the end of development)")
        except Exception as exc:  # noqa: BLE001 - a harness error answers success false, never a crash
            result = EvalResult(success=False, run_id=run_id, split="dev", simulated=self.simulated,
                                error=f"evaluation failed: {type(exc).__name__}: {exc}")
        finally:
            if self._running is not None and self._running[1] == run_id:
                self._running = None
            if staged is not None:
                discard(staged)
        self._record(result, rel, agent_sha256, first_k, started, killed)
        return result

    async def _stage(self, dst: Path, run_id: str):
        from mac.evaluation.runner import SNAPSHOT_LIMITS, record_refusal

        try:
            return await off_loop(lambda d: snapshot_workspace(self.workspace, dst, limits=SNAPSHOT_LIMITS, deadline=d),
                                  seconds=SNAPSHOT_LIMITS.seconds, what="workspace snapshot")
        except Exception as exc:
            record_refusal(self.evidence, f"dev-run-{run_id}", exc)
            raise

    def _response(self, result: EvalResult) -> dict[str, Any]:
        payload = result.model_dump(mode="json")
        payload["split"] = "dev"
        return payload

    def _record(self, result: EvalResult, rel: str, agent_sha256: str, first_k: int | None, started: float,
                killed: bool) -> None:
        entry = {
            "time_sec": round(started - self.started_at, 3), "started_at": started, "wall_sec": round(time.time() - started, 3),
            "run_id": result.run_id, "agent_file": rel, "agent_sha256": agent_sha256, "first_k": first_k,
            "success": result.success, "accuracy": result.accuracy, "correct": result.correct, "total": result.total,
            "partial": result.partial, "timed_out": result.timed_out, "killed": killed,
            "error": result.error, "usage": result.usage.model_dump(),
        }
        self.history.append(entry)
        self.evaluations += 1
        self._rank(entry)
        if self.log_path is not None:
            append_jsonl(self.log_path, entry)
        if first_k is not None and first_k <= PROBE_FIRST_K:
            self._probes += 1
            if self._probes % self.probe_threshold == 0 and _is_power_of_two(self._probes // self.probe_threshold):
                self._evidence("probe_pattern", f"{self._probes} evaluations on at most {PROBE_FIRST_K} problems",
                               count=self._probes)
        if self.on_result is not None:
            self.on_result(entry)

    # -- refusals -------------------------------------------------------------
    def _refuse(self, status: int, kind: str, message: str, **detail: Any) -> web.Response:
        count = self._refusals[kind] = self._refusals.get(kind, 0) + 1
        # Every test-split request is evidence; repeated refusals of a kind are sampled so a flood stays small.
        if kind == "test_split" or count <= 10 or _is_power_of_two(count):
            self._evidence(f"eval_refused_{kind}", message, status=status, count=count, **detail)
        return web.json_response({"success": False, "error": message, "status": status}, status=status)

    def _evidence(self, kind: str, label: str, **detail: Any) -> None:
        if self.evidence is not None:
            self.evidence.add("evaluation", kind, label=label, trial=self.label, **detail)

    @property
    def refusals(self) -> dict[str, int]:
        return dict(self._refusals)


def _score(entry: dict[str, Any]) -> tuple:
    return entry["accuracy"], entry["total"], -entry["time_sec"]


def check_case_timeout(domain: Any, value: Any) -> None:
    """MAC's LCB API takes `case_timeout` and requires 10: accepted when it equals the domain's fixed value."""
    if value is None:
        return
    fixed = domain.grading.describe().get("case_timeout")
    if fixed is None:
        raise ArtifactError(f"'case_timeout' applies to code domains only; {domain.name} has no per-test time limit")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != fixed:
        raise ArtifactError(f"'case_timeout' is fixed at {fixed:g} seconds (as in MAC); send {fixed:g} or leave it out")


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _dumps(obj: Any) -> str:
    import json

    return json.dumps(obj, default=str)
