"""What a finished run means: a trial's status, and the exit code of `mac run`, `mac eval` and `mac verify`.

Failures are never scores. A trial whose verification produced a score is `completed`, unless too many
task-model calls failed upstream in one of its phases (5xx, connection errors, timeouts, as the gateway counts
them in `Usage.upstream_errors`; quota refusals are the artifact's own doing and do not count): then it is
`infrastructure_error`, its score kept for inspection and left out of every mean. The commands exit with

    EXIT_OK (0)            every trial or evaluation ran cleanly
    EXIT_FAILURES (1)      something failed: a trial, an artifact (crash, no artifact, timeout, bad predictions)
                           or the infrastructure (upstream errors past the threshold)
    EXIT_USAGE (2)         bad flags, config or data, or a model endpoint that failed its preflight: nothing ran
    EXIT_INTERRUPTED (130) Ctrl-C or SIGTERM: unfinished trials were saved for `mac run --resume`
"""

from __future__ import annotations

from pathlib import Path

from mac.evaluation.result import EvalResult
from mac.kinds import TrialStatus
from mac.records import Usage
from mac.store.models import DEFAULT_MAX_UPSTREAM_ERROR_RATE, TrialResult

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
STDERR_LINES = 15
"""Lines of the meta-agent's stderr kept in result.json (meta_agent_exit.stderr_tail) and shown after a job."""


def upstream_error_rate(usage: Usage) -> float | None:
    """Share of the calls that reached for the upstream and failed there (None: no call was made)."""
    attempts = usage.requests + usage.upstream_errors
    return usage.upstream_errors / attempts if attempts else None


def infrastructure_problem(usage_by_phase: dict[str, Usage], threshold: float) -> str | None:
    """Why the upstream failed this run (the worst phase past `threshold`), or None when it held up."""
    worst: tuple[float, str, Usage] | None = None
    for phase, usage in usage_by_phase.items():
        rate = upstream_error_rate(usage)
        if rate is not None and rate > threshold and (worst is None or rate > worst[0]):
            worst = (rate, phase, usage)
    if worst is None:
        return None
    rate, phase, usage = worst
    attempts = usage.requests + usage.upstream_errors
    return (f"infrastructure: {usage.upstream_errors} of {attempts} task-model calls failed upstream in {phase} "
            f"({rate:.0%} > {threshold:.0%}); the score is kept for inspection and not counted")


def finished_status(result: TrialResult, threshold: float = DEFAULT_MAX_UPSTREAM_ERROR_RATE, *,
                    skip: tuple[str, ...] = ()) -> TrialStatus:
    """The status of a trial that ran to its end: failed, infrastructure_error or completed, judged on the
    usage of its phases except `skip` (a re-verification replaces "verify"). Sets the reason of an
    infrastructure error (before any artifact reason, which stays after it)."""
    if result.test is None:
        return "failed"
    problem = infrastructure_problem({k: u for k, u in result.usage.items() if k not in skip}, threshold)
    if problem is None:
        return "completed"
    if not (result.reason or "").startswith("infrastructure:"):
        result.reason = problem + (f"; {result.reason}" if result.reason else "")
    return "infrastructure_error"


def trial_failure(result: TrialResult) -> str | None:
    """Why this trial makes the command exit EXIT_FAILURES, or None when it ran cleanly."""
    if result.status != "completed":
        return result.reason or result.status
    if result.reason:  # a score exists, but the artifact was missing, broke, timed out or answered in bad types
        return result.reason
    return None


def run_exit_code(results: list[TrialResult]) -> int:
    return EXIT_FAILURES if any(trial_failure(r) for r in results) else EXIT_OK


def eval_failure(result: EvalResult, threshold: float = DEFAULT_MAX_UPSTREAM_ERROR_RATE) -> str | None:
    """Why a one-off evaluation counts as failed (the artifact, or the task model's upstream), or None."""
    problem = infrastructure_problem({result.split: result.usage}, threshold)
    if problem is not None:
        return problem.replace("; the score is kept for inspection and not counted", "")
    if not result.success:
        return result.error or "the artifact produced no gradeable output"
    if result.error:
        return result.error
    if result.missing_predictions:
        return f"{len(result.missing_predictions)} missing predictions"
    return None


def meta_agent_exit_text(result: TrialResult) -> str:
    """The meta-agent's ending in a few characters: its exit code, "deadline" or "-" (it did not run)."""
    ended = result.meta_agent_exit
    if ended is None:
        return "-"
    if ended.timed_out:
        return "deadline"
    return str(ended.returncode) if ended.returncode is not None else (ended.killed_by or "-")


def failure_notes(results: list[TrialResult]) -> list[tuple[str, str]]:
    """(trial, text) for everything a user must see after a job: why each trial failed, and the stderr tail
    of each meta-agent that exited with an error of its own (not at the deadline)."""
    notes = []
    for r in results:
        why = trial_failure(r)
        if why:
            notes.append((r.trial, f"{r.status}: {why}"))
        ended = r.meta_agent_exit
        if ended is not None and not ended.timed_out and ended.returncode not in (0, None):
            tail = ended.stderr_tail.strip() or "(its stderr was empty)"
            notes.append((r.trial, f"the meta-agent exited with code {ended.returncode}; last lines of its "
                                   f"stderr:\n{tail}"))
    return notes


def last_lines(path: Path, lines: int = STDERR_LINES, max_bytes: int = 16_384) -> str:
    """The last `lines` lines of a log file (its last `max_bytes` at most); "" when there is none."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - max_bytes))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])
