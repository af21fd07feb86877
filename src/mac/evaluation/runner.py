"""Run a frozen artifact on a split in a sandbox and grade it in the controller.

    result = await run_artifact(domain=..., records=..., split="dev", artifact=Path("ws/agent.py"),
                                gateway=gw, token=grant.token, backend=get_backend("bwrap"), timeout=600)
    result = await eval_artifact(domain="aime", data=None, split="dev", artifact=Path("ws"),
                                 task_model=TaskModelSpec.parse("sim"))        # the one-shot path of `mac eval`

What enters the sandbox: a snapshot of the artifact folder (read-only at /workspace), `problems.json` at
/mac/in (idx, question, choices, extra: never answers), a writable /mac/out, and one gateway channel relayed
to 127.0.0.1:8000. What leaves it: /mac/out/result.json (untrusted, see `mac.evaluation.grading`), or when the
run was killed before it could write that, the SDK's prediction journal (`mac.evaluation.partial`), and the
capped stdout/stderr. Grading happens here, on plain strings. Scratch folders go to the trash (mac.trash).
The snapshot and the reading of the output touch what untrusted code wrote, so they run off the event loop
(mac.offload) with a deadline; a snapshot past its limits is refused and recorded as evidence.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from collections.abc import Callable

from mac.config import Quota, SandboxLimits, TaskModelSpec
from mac.domains.base import Domain
from mac.domains.grader import GradingContext
from mac.errors import ConfigError, SandboxError
from mac.evaluation.grading import ArtifactOutput, Graded, grade_output, predictions_content, read_output
from mac.evaluation.partial import JOURNAL_NAME, read_journal
from mac.evaluation.result import EvalResult
from mac.evaluation.tracebacks import artifact_traceback, scrub_secrets
from mac.evidence import EvidenceLog
from mac.offload import DeadlineExceeded, off_loop
from mac.paths import scratch_home
from mac.records import Record, Usage
from mac.sandbox.base import Relay, SandboxBackend, SandboxProcess, SandboxResult, SandboxSpec
from mac.sandbox.walk import TreeLimits, TreeRefused
from mac.trash import discard

log = logging.getLogger("mac.evaluation")

GATEWAY_PORT = 8000
"""Where the task-model gateway appears inside the sandbox (127.0.0.1:GATEWAY_PORT)."""
GRACE_SEC = 5.0
"""The sandbox's wall limit is the artifact timeout plus this, so the runner's own deadline writes first."""
STDERR_TAIL = 8000
SNAPSHOT_LIMITS = TreeLimits()
"""What an artifact folder may hold (files, bytes, folders, entries, depth, path length, symlinks, seconds)."""
READ_OUTPUT_SEC = 60.0
"""Deadline for reading and parsing the (capped) result file or journal."""


async def run_artifact(*, domain: Domain, records: list[Record], split: str, artifact: Path, gateway,
                       token: str, backend: SandboxBackend, timeout: float, first_k: int | None = None,
                       limits: SandboxLimits | None = None, evidence: EvidenceLog | None = None,
                       run_id: str | None = None, workdir: Path | None = None,
                       on_start: Callable[[SandboxProcess], None] | None = None) -> EvalResult:
    """Run `artifact` (a folder with agent.py, or the agent file itself) on `records` and grade it.

    `first_k` asks only the first k records. `on_start` receives the started process (so a caller can kill
    it). A broken artifact gives `success=False` with an `error`, or a partial score; it never raises.
    Raises SandboxError only when the backend itself cannot run (a problem of this machine, not the artifact).
    """
    run_id = run_id or uuid.uuid4().hex[:12]
    asked = records[:first_k] if first_k is not None and first_k > 0 else list(records)
    simulated = bool(getattr(getattr(gateway, "backend", None), "simulated", False))
    base = empty_result(domain, asked, run_id=run_id, split=split, simulated=simulated)
    try:
        folder, agent_name = locate_agent(Path(artifact))
    except ConfigError as exc:
        return base.model_copy(update={"error": str(exc)})
    run_dir = _make_run_dir(workdir, run_id)
    started = time.monotonic()
    try:
        try:
            snapshot = await off_loop(lambda d: _snapshot(folder, run_dir / "workspace", agent_name, d),
                                      seconds=SNAPSHOT_LIMITS.seconds, what="artifact snapshot")
        except (SandboxError, ConfigError, DeadlineExceeded) as exc:
            record_refusal(evidence, f"{split}-run-{run_id}", exc)
            return base.model_copy(update={"error": str(exc)})
        _record_odd_names(evidence, f"{split}-run-{run_id}", snapshot)
        inputs, outputs = _write_inputs(run_dir, domain, asked)
        before = gateway.usage(token)
        channel = await gateway.open_channel(token, label=f"{split}-{run_id}")
        try:
            spec = _spec(run_id, split, agent_name, snapshot, inputs, outputs, channel, gateway, token, timeout, limits)
            sandbox = await _run(backend, spec, on_start)
        finally:
            await gateway.close_channel(channel)
        usage = _usage_delta(before, gateway.usage(token))
        try:
            output = await off_loop(lambda _d: _read_outputs(outputs, sandbox, timeout), seconds=READ_OUTPUT_SEC,
                                    what="reading the artifact's output")
        except DeadlineExceeded as exc:
            output = ArtifactOutput(unreadable=str(exc))
        ctx = GradingContext(backend=backend, evidence=evidence, split=split)
        graded = await grade_output(domain, asked, output, ctx)
        result = _assemble(base, output, graded, sandbox, usage, timeout, secrets=(token,))
        result.predictions_content = predictions_content(output, domain)
        result.wall_sec = round(time.monotonic() - started, 3)
        _record_evidence(evidence, spec.label, result, sandbox)
        return result
    finally:
        discard(run_dir)


def empty_result(domain: Domain, asked: list[Record], **fields) -> EvalResult:
    """The result of a run that graded nothing: every problem asked missing, the grading's fixed fields set."""
    idxs = [domain.problem_idx(i, r) for i, r in enumerate(asked)]
    return EvalResult(success=False, total=len(asked), scores=[0] * len(asked), missing_predictions=idxs,
                      **domain.grading.describe(), **fields)


def locate_agent(artifact: Path) -> tuple[Path, str]:
    """(folder to snapshot, agent file name) for a folder holding agent.py or for the agent file itself."""
    if artifact.is_dir():
        if not (artifact / "agent.py").is_file():
            raise ConfigError(f"no agent.py in {artifact}: an artifact folder must hold agent.py")
        return artifact, "agent.py"
    if artifact.is_file() and artifact.suffix == ".py":
        return artifact.parent, artifact.name
    raise ConfigError(f"artifact {artifact} not found: pass a folder holding agent.py, or the agent .py file")


def _make_run_dir(workdir: Path | None, run_id: str) -> Path:
    parent = Path(workdir) if workdir is not None else scratch_home()
    parent.mkdir(parents=True, exist_ok=True)
    _check_traversable(parent.resolve())
    run_dir = Path(tempfile.mkdtemp(prefix=f"run-{run_id}-", dir=parent))
    run_dir.chmod(0o711)  # sandbox uids traverse it to their binds, but cannot list it
    return run_dir


def _check_traversable(folder: Path) -> None:
    """As root, sandboxes run as other uids: every folder above their binds must let others through (o+x)."""
    if os.geteuid() != 0:
        return
    for part in (folder, *folder.parents):
        if not part.stat().st_mode & stat.S_IXOTH:
            raise SandboxError(f"sandbox uids cannot reach {folder}: {part} is not traversable by others; use a "
                               f"work folder under {scratch_home()} (or `chmod o+x {part}`)")


def _snapshot(folder: Path, dst: Path, agent_name: str, deadline=None):
    from mac.sandbox.snapshot import snapshot_workspace

    snapshot = snapshot_workspace(folder, dst, limits=SNAPSHOT_LIMITS, deadline=deadline)
    if not (snapshot.path / agent_name).is_file():
        why = next((s.reason for s in snapshot.skipped if s.path == agent_name), "missing")
        raise ConfigError(f"{agent_name} was left out of the artifact snapshot ({why}); it must be a plain file")
    return snapshot


def _write_inputs(run_dir: Path, domain: Domain, asked: list[Record]) -> tuple[Path, Path]:
    inputs, outputs = run_dir / "in", run_dir / "out"
    inputs.mkdir(mode=0o755)
    outputs.mkdir()
    outputs.chmod(0o777)  # the sandbox uid writes here; the bwrap backend may narrow it with chown
    problems = [domain.problem(idx, record).to_dict() for idx, record in enumerate(asked)]
    path = inputs / "problems.json"
    path.write_text(json.dumps(problems, ensure_ascii=False))
    path.chmod(0o644)
    return inputs, outputs


def _spec(run_id: str, split: str, agent_name: str, snapshot, inputs: Path, outputs: Path, channel: Path, gateway,
          token: str, timeout: float, limits: SandboxLimits | None) -> SandboxSpec:
    base_url = f"http://127.0.0.1:{GATEWAY_PORT}/v1"
    model = str(getattr(gateway, "model_name", "") or "task-model")
    env = {
        "TASK_MODEL_API_BASE": base_url, "TASK_MODEL_API_KEY": token, "TASK_MODEL_NAME": model,
        "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": token,  # unmodified OpenAI clients work too
        "PYTHONUNBUFFERED": "1",
    }
    limits = (limits or SandboxLimits()).model_copy(update={"wall_sec": timeout + GRACE_SEC})
    argv = ["python", "-m", "mac.sdk.run", "--agent", f"/workspace/{agent_name}", "--problems",
            "/mac/in/problems.json", "--out", "/mac/out/result.json", "--timeout", str(timeout),
            "--journal", f"/mac/out/{JOURNAL_NAME}"]
    return SandboxSpec(label=f"{split}-run-{run_id}", role="artifact", argv=argv, env=env, workspace=snapshot.path,
                       inputs=inputs, outputs=outputs, relays=[Relay(socket=Path(channel), port=GATEWAY_PORT)],
                       limits=limits)


async def _run(backend: SandboxBackend, spec: SandboxSpec,
               on_start: Callable[[SandboxProcess], None] | None) -> SandboxResult:
    process = await backend.start(spec)
    try:
        if on_start is not None:
            on_start(process)
        return await process.wait()
    except BaseException:
        await process.kill("cancelled")  # an abandoned run must not keep spending the token
        raise


def _read_outputs(outputs: Path, sandbox: SandboxResult, timeout: float) -> ArtifactOutput:
    """The result file; when there is none (the run was killed first), the predictions of the SDK's journal."""
    output = read_output(outputs / "result.json")
    if output.unreadable is None:
        return output
    kept = read_journal(outputs / JOURNAL_NAME)
    if kept is None:
        return output
    kept.error = f"{_no_output_error(output.unreadable, sandbox, timeout)} {kept.error}."
    kept.timed_out = sandbox.timed_out
    return kept


def record_refusal(evidence: EvidenceLog | None, label: str, exc: Exception) -> None:
    """A snapshot refused at a limit (mac.sandbox.walk.TreeRefused) is evidence: someone filled the workspace."""
    if evidence is not None and isinstance(exc, TreeRefused):
        evidence.add("evaluation", "snapshot_refused", label=label, reason=str(exc), **exc.detail())


def _record_odd_names(evidence: EvidenceLog | None, label: str, snapshot) -> None:
    refused = [s.path for s in snapshot.skipped if s.reason == "control_chars"]
    if evidence is not None and refused:
        evidence.add("evaluation", "control_char_names", label=label, count=len(refused), paths=refused[:20])


def _usage_delta(before: Usage, after: Usage) -> Usage:
    return after.minus(before)


def _assemble(base: EvalResult, output, graded: Graded, sandbox: SandboxResult, usage: Usage,
              timeout: float, secrets: tuple[str, ...] = ()) -> EvalResult:
    timed_out = sandbox.timed_out or output.timed_out
    has_predictions = len(graded.missing) < len(graded.grades)
    error = scrub_secrets(output.error, secrets) if output.error else None
    if output.unreadable:
        error = _no_output_error(output.unreadable, sandbox, timeout)
    elif timed_out and not error:
        error = f"timed out after {timeout:g}s"
    elif not error:
        error = graded.type_problem()
    total = len(graded.grades)
    covered = total - len(graded.missing)
    return base.model_copy(update={
        "success": output.unreadable is None and (error is None or has_predictions),
        "accuracy": round(100.0 * graded.correct / total, 4) if total else 0.0,
        "correct": graded.correct,
        "covered": covered,
        "coverage": round(100.0 * covered / total, 4) if total else 0.0,
        "scores": [int(g.correct) for g in graded.grades],
        "missing_predictions": graded.missing,
        "detailed_results": [g.model_dump(exclude=None if g.tests is not None else {"tests"}) for g in graded.grades],
        "invalid_predictions": graded.invalid,
        "partial": bool(graded.missing) or timed_out or output.partial,
        "timed_out": timed_out,
        "usage": usage,
        "error": error,
        "traceback": artifact_traceback(output.traceback, secrets),
        "artifact_stderr": scrub_secrets(_tail(sandbox), secrets),
        "events": list(sandbox.events),
    })


def _no_output_error(why: str, sandbox: SandboxResult, timeout: float) -> str:
    if sandbox.timed_out:
        how = f"it was killed at the wall limit ({timeout:g}s + {GRACE_SEC:g}s grace)"
    elif sandbox.killed_by:
        how = f"it was killed ({sandbox.killed_by})"
    else:
        how = f"it exited with code {sandbox.returncode}"
    return f"no output: {why}; {how}. See artifact_stderr."


def _tail(sandbox: SandboxResult) -> str:
    text = sandbox.stderr[-STDERR_TAIL:]
    if sandbox.stderr_truncated:
        text += "\n[stderr truncated by the sandbox output cap]"
    return text


def _record_evidence(evidence: EvidenceLog | None, label: str, result: EvalResult, sandbox: SandboxResult) -> None:
    if evidence is None:
        return
    if result.timed_out:
        evidence.add("evaluation", "artifact_timeout", label=label, run_id=result.run_id, killed_by=sandbox.killed_by)
    if result.invalid_predictions:
        evidence.add("evaluation", "invalid_predictions", label=label, run_id=result.run_id,
                     count=len(result.invalid_predictions), examples=result.invalid_predictions[:5])


async def eval_artifact(*, domain: str, data: Path | None, split: str, artifact: Path, task_model: TaskModelSpec,
                        timeout: float | None = None, first_k: int | None = None, sandbox: str = "bwrap",
                        quota: Quota | None = None, evidence: EvidenceLog | None = None,
                        test_seed_file: Path | None = None) -> EvalResult:
    """Load `split` of `domain`, start a gateway for `task_model`, run and grade `artifact` once, close everything.
    `test_seed_file` pins a generated test split's secret seed (mac.domains.testseed; default: the install's).

    Refuses a sandbox that isolates nothing ("none") for the test split (ConfigError), warns loudly otherwise.
    """
    from mac.domains.base import get_domain
    from mac.domains.testseed import seed_for
    from mac.gateway import Gateway, make_backend
    from mac.sandbox.registry import check_backend, get_backend

    isolated = check_backend(sandbox, {}).isolated
    if not isolated and split == "test":
        raise ConfigError(f"sandbox {sandbox!r} isolates nothing and is refused for the test split: run the test "
                          "split with --sandbox bwrap")
    if not isolated:
        log.warning(f"evaluating with sandbox {sandbox!r}: the artifact runs UNSANDBOXED and can read anything on "
                    "this host")
    dom = get_domain(domain)
    seed = seed_for(dom, data, test_seed_file)
    records = dom.load(split, data, seed=seed)
    asked = records[:first_k] if first_k is not None and first_k > 0 else records
    timeout = float(timeout if timeout is not None else dom.default_budget().eval_timeout_sec)
    sandbox_backend = get_backend(sandbox, evidence=evidence, runtime_packages=dom.allowed_packages())
    model_backend = make_backend(task_model, sim_items=[dom.sim_item(i, r) for i, r in enumerate(asked)])
    run_id = uuid.uuid4().hex[:12]
    scratch = Path(tempfile.mkdtemp(prefix=f"eval-{run_id}-", dir=scratch_home()))
    scratch.chmod(0o711)
    try:
        socket_dir = scratch / "sockets"
        socket_dir.mkdir()
        async with Gateway(model_backend, model_name=task_model.name, log_path=scratch / "gateway.jsonl",
                           socket_dir=socket_dir, evidence=evidence) as gateway:
            grant = gateway.grant(phase="eval", quota=quota or Quota(), label=f"{domain}-{split}")
            try:
                return await run_artifact(domain=dom, records=asked, split=split, artifact=artifact, gateway=gateway,
                                          token=grant.token, backend=sandbox_backend, timeout=timeout,
                                          limits=dom.default_budget().eval_limits, evidence=evidence, run_id=run_id,
                                          workdir=scratch)
            finally:
                gateway.revoke(grant.token)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
