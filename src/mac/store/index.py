"""`jobs/index.sqlite`: a small index of jobs and trials for reports. The folders stay the source of truth;
the index can be rebuilt from them (`Index.rebuild`)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from mac.store.models import TrialResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    options TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS trials (
    job TEXT NOT NULL,
    trial TEXT NOT NULL,
    domain TEXT NOT NULL,
    meta_agent TEXT NOT NULL,
    seed INTEGER NOT NULL,
    task_model TEXT NOT NULL,
    simulated INTEGER NOT NULL,
    status TEXT NOT NULL,
    test_accuracy REAL,
    best_dev_accuracy REAL,
    artifact_sha256 TEXT,
    integrity_verdict TEXT,
    reason TEXT,
    path TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (job, trial)
);
"""

_TRIAL_COLUMNS = ("job", "trial", "domain", "meta_agent", "seed", "task_model", "simulated", "status",
                  "test_accuracy", "best_dev_accuracy", "artifact_sha256", "integrity_verdict", "reason", "path",
                  "updated_at")


class Index:
    """The sqlite index of one jobs folder. Each call opens a short connection, so concurrent writers from
    several processes (two `mac run` at once) wait on sqlite's lock instead of sharing a handle."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0)
        db.row_factory = sqlite3.Row
        return db

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        db = self._connect()
        try:
            with db:
                db.execute(sql, params)
        finally:
            db.close()

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        db = self._connect()
        try:
            return [dict(row) for row in db.execute(sql, params)]
        finally:
            db.close()

    def record_job(self, job: str, *, created_at: float | None = None, options: dict[str, Any] | None = None) -> None:
        self._write("INSERT INTO jobs (job, created_at, options) VALUES (?, ?, ?) "
                    "ON CONFLICT(job) DO UPDATE SET options = excluded.options",
                    (job, created_at or time.time(), json.dumps(options or {}, default=str)))

    def record_trial(self, result: TrialResult, path: Path) -> None:
        """Insert or update the row of `result` (called at every phase change and at the end)."""
        row = (result.job, result.trial, result.domain, result.meta_agent, result.seed, result.task_model,
               int(result.simulated), result.status, result.test.accuracy if result.test else None,
               result.best_dev.accuracy if result.best_dev else None, result.artifact_sha256,
               result.integrity_verdict, result.reason, str(Path(path).resolve()), time.time())
        placeholders = ", ".join("?" for _ in _TRIAL_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _TRIAL_COLUMNS[2:])
        self._write(f"INSERT INTO trials ({', '.join(_TRIAL_COLUMNS)}) VALUES ({placeholders}) "
                    f"ON CONFLICT(job, trial) DO UPDATE SET {updates}", row)

    def jobs(self) -> list[dict[str, Any]]:
        rows = self._read("SELECT * FROM jobs ORDER BY created_at")
        for row in rows:
            row["options"] = json.loads(row["options"])
        return rows

    def trials(self, job: str | None = None) -> list[dict[str, Any]]:
        if job is None:
            rows = self._read("SELECT * FROM trials ORDER BY job, trial")
        else:
            rows = self._read("SELECT * FROM trials WHERE job = ? ORDER BY trial", (job,))
        for row in rows:
            row["simulated"] = bool(row["simulated"])
        return rows

    def rebuild(self, jobs_dir: Path) -> int:
        """Re-index every `<job>/<trial>/result.json` under `jobs_dir`; returns how many trials were indexed."""
        count = 0
        for result_path in sorted(Path(jobs_dir).glob("*/*/result.json")):
            try:
                result = TrialResult.load(result_path)
            except (OSError, ValueError):
                continue
            self.record_job(result.job, created_at=result.started_at)
            self.record_trial(result, result_path.parent)
            count += 1
        return count
