"""Read trial folders into plain data for the report, through the store's own models and paths.

Everything read here came out of a sandbox or was shaped by one (artifact source, trajectories, findings), so
it is treated as text to be escaped, and every read is capped: a malicious artifact of 1 GB must not turn the
report into a 1 GB page. The controller never follows a symlink out of a trial folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mac.errors import MacError
from mac.store import JobPaths, TrialConfig, TrialPaths, TrialResult, read_jsonl
from mac.store.paths import RETRIED_FOLDER, check_name

MAX_FILE_CHARS = 200_000
"""Longest artifact file shown in full; longer ones are cut with a note."""
MAX_FILES = 40
"""Most artifact files listed per trial."""
MAX_LOG_CHARS = 20_000
"""Tail of each trajectory log shown."""
MAX_EVIDENCE = 500
MAX_WALK = 5_000
"""Most files looked at under one artifact or trajectory folder."""
MAX_VERIFICATION_BYTES = 64 << 20
"""A larger verification.json is not read for per-problem scores (the report falls back to correct/total)."""


@dataclass
class DevPoint:
    """One dev evaluation on the learning curve: seconds after development started, and its score."""

    time_sec: float
    accuracy: float
    correct: int = 0
    total: int = 0
    first_k: int | None = None
    run_id: str = ""
    wall_sec: float = 0.0
    started_at: float | None = None
    """Absolute start time (epoch seconds), when the log has it."""
    success: bool = True
    timed_out: bool = False


@dataclass
class TextFile:
    path: str
    text: str
    size: int
    truncated: bool = False
    binary: bool = False


@dataclass
class TrialView:
    """What the report knows about one trial: its result plus the logs and files it shows."""

    dir: Path
    result: TrialResult
    config: TrialConfig | None = None
    dev_points: list[DevPoint] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)
    artifact: list[TextFile] = field(default_factory=list)
    trajectory: list[TextFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """What could not be read (a broken file is reported, never fatal)."""
    test_scores: list[float] | None = None
    """Per test problem, the score of the verification (verification.json `scores`), when it matches result.json;
    the report's bootstrap resamples these."""

    @property
    def key(self) -> str:
        return f"{self.result.job}/{self.result.trial}"


def resolve_job_dir(job: str | Path, jobs_dir: Path) -> Path:
    """`job` as an existing folder, else as a job name under `jobs_dir`."""
    path = Path(job)
    if path.is_dir() or "/" in str(job):
        return path
    return JobPaths(Path(jobs_dir), check_name(str(job), "job")).dir


def trial_dirs(job_dir: Path) -> list[Path]:
    """Folders of a job that are trials (they have a config.json or a result.json)."""
    if not job_dir.is_dir():
        return []
    return sorted(d for d in job_dir.iterdir() if d.is_dir() and not d.is_symlink()
                  and ((d / "result.json").is_file() or (d / "config.json").is_file()))


def load_job(job_dir: Path, *, with_files: bool = True) -> list[TrialView]:
    """Every readable trial of one job folder; `with_files=False` skips artifact and trajectory text."""
    return scan_job(job_dir, with_files=with_files)[0]


def scan_job(job_dir: Path, *, with_files: bool = True) -> tuple[list[TrialView], list[str]]:
    """(trials, unreadable): every trial of one job folder, and one line per folder in it that could not be
    read as a trial, with the reason. Never raises for what a folder holds: nothing is dropped silently."""
    views, unreadable = [], []
    job_dir = Path(job_dir)
    trials = set(trial_dirs(job_dir))
    for folder in _folders(job_dir):
        if folder not in trials:
            unreadable.append(f"{job_dir.name}/{folder.name}: not a trial folder (no config.json or result.json): "
                              "a trial that never started, or something else; it is not in the report")
            continue
        try:
            view = load_trial(folder, with_files=with_files)
        except (OSError, ValueError, MacError) as exc:
            unreadable.append(f"{job_dir.name}/{folder.name}: cannot be read ({type(exc).__name__}: {exc})")
            continue
        if view is None:
            unreadable.append(f"{job_dir.name}/{folder.name}: " + "; ".join(_unreadable_reasons(folder)))
            continue
        views.append(view)
    return views, unreadable


def _folders(job_dir: Path) -> list[Path]:
    """The folders of a job that should be trials (not symlinks, hidden folders or retried/)."""
    if not job_dir.is_dir():
        return []
    return sorted(d for d in job_dir.iterdir() if d.is_dir() and not d.is_symlink()
                  and not d.name.startswith(".") and d.name != RETRIED_FOLDER)


def _unreadable_reasons(folder: Path) -> list[str]:
    problems: list[str] = []
    paths = TrialPaths(folder)
    for path, model in ((paths.config, TrialConfig), (paths.result, TrialResult)):
        _load_model(path, model, problems)
    return problems or ["neither config.json nor result.json can be read"]


def load_trial(folder: Path, *, with_files: bool = True) -> TrialView | None:
    """One trial. With only a config.json the result is a placeholder: "running" (not started yet), or "failed"
    when a result.json exists but cannot be read. None when neither file can be read."""
    paths = TrialPaths(Path(folder))
    problems: list[str] = []
    config = _load_model(paths.config, TrialConfig, problems)
    result = _load_model(paths.result, TrialResult, problems)
    if result is None:
        if config is None:
            return None
        broken = paths.result.exists()
        result = TrialResult(job=config.job, trial=config.trial, domain=config.domain, meta_agent=config.meta_agent,
                             seed=config.seed, task_model=config.task_model.name,
                             simulated=config.task_model.simulated, started_at=config.created_at,
                             status="failed" if broken else "running",
                             reason=f"result.json is unreadable: {problems[-1]}" if broken and problems else None)
    view = TrialView(dir=paths.dir, result=result, config=config, problems=problems)
    view.test_scores = _test_scores(paths.verification, result)
    view.dev_points = [p for p in (_dev_point(r, result.started_at) for r in read_jsonl(paths.dev_evals)) if p]
    view.evidence = [r for r in read_jsonl(paths.evidence)[:MAX_EVIDENCE] if isinstance(r, dict)]
    view.audit = _load_json(paths.audit, problems)
    if with_files:
        view.artifact = read_tree(paths.artifact, MAX_FILE_CHARS, head=True)
        view.trajectory = read_tree(paths.trajectory, MAX_LOG_CHARS, head=False)
    return view


def _load_model(path: Path, model: Any, problems: list[str]) -> Any:
    if not path.is_file() or path.is_symlink():
        return None
    try:
        return model.load(path)
    except MacError as exc:  # StoreError: names each bad field
        problems.append(f"{path.name}: unreadable: {str(exc).split(' cannot be read: ', 1)[-1]}")
    except (OSError, ValueError, ValidationError) as exc:
        problems.append(f"{path.name}: unreadable ({type(exc).__name__})")
    return None


def _test_scores(path: Path, result: TrialResult) -> list[float] | None:
    """The verification's per-problem scores when they are the ones result.json's test score was made of."""
    test = result.test
    if test is None or test.total <= 0 or not path.is_file() or path.is_symlink():
        return None
    try:
        if path.stat().st_size > MAX_VERIFICATION_BYTES:
            return None
        scores = json.loads(path.read_text(encoding="utf-8")).get("scores")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(scores, list) or len(scores) != test.total:
        return None
    if not all(isinstance(s, (int, float)) and not isinstance(s, bool) and 0 <= s <= 1 for s in scores):
        return None
    return [float(s) for s in scores] if round(sum(scores)) == test.correct else None


def _load_json(path: Path, problems: list[str]) -> dict[str, Any]:
    if not path.is_file() or path.is_symlink():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.append(f"{path.name}: unreadable ({type(exc).__name__})")
        return {}
    return data if isinstance(data, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _dev_point(record: dict[str, Any], started_at: float) -> DevPoint | None:
    """A dev_evals.jsonl line as a point. Time: `time_sec` (seconds since development started, as the
    evaluation service writes it), else an absolute `time` minus the trial's start."""
    accuracy = _number(record.get("accuracy"))
    time_sec = _number(record.get("time_sec"))
    if time_sec is None and _number(record.get("time")) is not None:
        time_sec = max(0.0, float(record["time"]) - started_at)
    if accuracy is None or time_sec is None:
        return None
    first_k = record.get("first_k")
    return DevPoint(time_sec=time_sec, accuracy=accuracy, correct=int(_number(record.get("correct")) or 0),
                    total=int(_number(record.get("total")) or 0),
                    first_k=first_k if isinstance(first_k, int) and not isinstance(first_k, bool) else None,
                    run_id=str(record.get("run_id", ""))[:64], wall_sec=_number(record.get("wall_sec")) or 0.0,
                    started_at=_number(record.get("started_at")),
                    success=record.get("success") is not False, timed_out=record.get("timed_out") is True)


def read_tree(root: Path, max_chars: int, *, head: bool) -> list[TextFile]:
    """Regular files under `root` (no symlinks followed), each capped to `max_chars` (head or tail)."""
    if not root.is_dir() or root.is_symlink():
        return []
    found = []
    for path in _walk(root):
        found.append(str(path.relative_to(root)))
        if len(found) >= MAX_WALK:
            break
    chosen = sorted(found, key=lambda rel: (rel != "agent.py", rel))[:MAX_FILES]
    return [_read_text(root / rel, rel, max_chars, head) for rel in chosen]


def _walk(root: Path):
    for entry in sorted(root.iterdir()):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            if entry.name not in ("__pycache__", ".git", ".venv", "node_modules"):
                yield from _walk(entry)
        elif entry.is_file():
            yield entry


def _read_text(path: Path, rel: str, max_chars: int, head: bool) -> TextFile:
    size = path.stat().st_size
    limit = max_chars * 4  # bytes: a UTF-8 character is at most 4
    with path.open("rb") as fh:
        if not head and size > limit:
            fh.seek(size - limit)
        data = fh.read(limit)
    if b"\0" in data[:8192]:
        return TextFile(rel, "", size, binary=True)
    text = data.decode("utf-8", errors="replace")
    truncated = size > len(data) or len(text) > max_chars
    text = text[:max_chars] if head else text[-max_chars:]
    return TextFile(rel, text, size, truncated=truncated)
