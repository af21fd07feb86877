"""Baseline rows: the scores the leaderboard compares each configuration against.

`mac baseline --domain D --seeds N` runs the domain's two baseline artifacts on the test split, N times
(seed 0..N-1, which varies the `sim` task model's seed), and appends one line per run to

    <jobs_dir>/baselines/<domain>.jsonl       one BaselineRow per line (version "mac-baseline-1")

`naive` is one plain model call per problem; `strong` is the human-engineered artifact. Re-running appends:
for each (task model, kind, seed, test size) the newest row wins. The report matches rows to a configuration
by domain, task model name, the simulated flag and the number of test problems, so a baseline measured on a
different test set is never compared.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mac.config import TaskModelSpec
from mac.errors import ConfigError
from mac.records import Usage
from mac.report.stats import Summary, summarize
from mac.store import append_jsonl, read_jsonl
from mac.store.paths import check_name

BASELINE_VERSION = "mac-baseline-1"
BASELINE_KINDS = ("naive", "strong")
BASELINES_FOLDER = "baselines"
"""Reserved name under the jobs folder: not a job."""


class BaselineRow(BaseModel):
    """One run of a baseline artifact on the test split."""

    model_config = ConfigDict(extra="ignore")

    version: str = BASELINE_VERSION
    domain: str
    kind: str
    """"naive" or "strong" (human-engineered)."""
    seed: int
    task_model: str
    """The task model's name, as in TrialResult.task_model."""
    task_backend: str = "sim"
    simulated: bool
    accuracy: float
    correct: int = 0
    total: int = 0
    success: bool = True
    partial: bool = False
    timed_out: bool = False
    error: str | None = None
    usage: Usage = Field(default_factory=Usage)
    scores: list[int] = Field(default_factory=list)
    """1/0 per test problem, in order: the leaderboard compares configurations with it problem by problem
    (rows written before this field have none and are compared unpaired)."""
    artifact_sha256: str | None = None
    data: str | None = None
    """The --data folder (None: the domain's default data)."""
    test_seed_fingerprint: str | None = None
    """The secret seed of a generated test split (arith) these rows were measured on (its fingerprint)."""
    wall_sec: float = 0.0
    created_at: float = Field(default_factory=time.time)


def baselines_file(jobs_dir: Path, domain: str) -> Path:
    return Path(jobs_dir) / BASELINES_FOLDER / f"{check_name(domain, 'domain')}.jsonl"


def read_baselines(jobs_dir: Path) -> list[BaselineRow]:
    """Every readable row under `<jobs_dir>/baselines/` (a line of another version or shape is skipped)."""
    folder = Path(jobs_dir) / BASELINES_FOLDER
    rows: list[BaselineRow] = []
    if not folder.is_dir():
        return rows
    for path in sorted(folder.glob("*.jsonl")):
        for record in read_jsonl(path):
            if record.get("version") != BASELINE_VERSION:
                continue
            try:
                rows.append(BaselineRow.model_validate(record))
            except ValueError:
                continue
    return rows


def baseline_scores(rows: list[BaselineRow], *, domain: str, task_model: str, simulated: bool,
                    total: int | None, test_seed: str | None = None) -> dict[str, Summary]:
    """Per kind, the summary of the newest row per seed among rows comparable to this configuration."""
    chosen = comparable_rows(rows, domain=domain, task_model=task_model, simulated=simulated, total=total,
                             test_seed=test_seed)
    return {kind: summarize([r.accuracy for r in found]) for kind, found in chosen.items()}


def comparable_rows(rows: list[BaselineRow], *, domain: str, task_model: str, simulated: bool,
                    total: int | None, test_seed: str | None = None) -> dict[str, list[BaselineRow]]:
    """Per kind (that has any), the newest row per seed among rows comparable to this configuration: same
    domain, task model, test size and, for a generated test split (arith), the same secret seed fingerprint."""
    newest: dict[tuple[str, int], BaselineRow] = {}
    for row in rows:
        if (row.domain, row.task_model, row.simulated, row.test_seed_fingerprint) != \
                (domain, task_model, simulated, test_seed):
            continue
        if total is not None and row.total != total:
            continue
        key = (row.kind, row.seed)
        if key not in newest or row.created_at >= newest[key].created_at:
            newest[key] = row
    out: dict[str, list[BaselineRow]] = {}
    for kind in BASELINE_KINDS:
        found = [r for (k, _), r in sorted(newest.items()) if k == kind]
        if found:
            out[kind] = found
    return out


async def run_baselines(*, domain: str, seeds: int, task_model: TaskModelSpec, jobs_dir: Path,
                        data: Path | None = None, kinds: tuple[str, ...] = BASELINE_KINDS, sandbox: str = "bwrap",
                        timeout: float | None = None, first_k: int | None = None,
                        artifacts: dict[str, Path] | None = None,
                        test_seed_file: Path | None = None) -> list[BaselineRow]:
    """Evaluate each baseline kind on the test split for seeds 0..seeds-1 and append the rows (see module doc).

    `artifacts` maps kinds to artifact folders instead of the domain's own baselines (`Domain.baseline(kind)`).
    `first_k` limits each run to the first k test problems (such rows only match trials graded on k problems).
    `test_seed_file` pins a generated test split's secret seed (default: the install's); rows record its fingerprint.
    """
    from mac.domains import get_domain
    from mac.domains.testseed import seed_for
    from mac.evaluation.runner import eval_artifact
    from mac.sandbox.snapshot import content_hash

    if seeds < 1:
        raise ConfigError("--seeds must be at least 1")
    if artifacts is not None:
        folders = {kind: Path(folder) for kind, folder in artifacts.items()}
    else:
        dom = get_domain(domain)
        folders = {kind: dom.baseline(kind) for kind in kinds}  # fail on a missing baseline before running any
    test_seed = seed_for(get_domain(domain), data, test_seed_file)
    out_file = baselines_file(jobs_dir, domain)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind, folder in folders.items():
        sha = content_hash(folder)
        for seed in range(seeds):
            spec = task_model.model_copy(update={"seed": seed})
            result = await eval_artifact(domain=domain, data=data, split="test", artifact=folder, task_model=spec,
                                         timeout=timeout, first_k=first_k, sandbox=sandbox,
                                         test_seed_file=test_seed.path if test_seed else None)
            row = _row(result, domain=domain, kind=kind, seed=seed, spec=spec, sha=sha, data=data)
            row.test_seed_fingerprint = test_seed.fingerprint if test_seed else None
            append_jsonl(out_file, row)
            rows.append(row)
    return rows


def _row(result: Any, *, domain: str, kind: str, seed: int, spec: TaskModelSpec, sha: str,
         data: Path | None) -> BaselineRow:
    return BaselineRow(domain=domain, kind=kind, seed=seed, task_model=spec.name, task_backend=spec.backend,
                       simulated=spec.simulated, accuracy=result.accuracy, correct=result.correct,
                       total=result.total, success=result.success, partial=result.partial,
                       timed_out=result.timed_out, error=result.error, usage=result.usage,
                       scores=list(result.scores) if result.success else [0] * result.total, artifact_sha256=sha,
                       data=str(data) if data is not None else None, wall_sec=result.wall_sec)
