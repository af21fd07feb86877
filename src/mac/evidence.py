"""Evidence: an append-only JSONL log of every attempt a defence saw (denials, refusals, kills, violations).

Kept on the trusted side, outside every sandbox. Each record gets an id ("ev-<n>") that audit findings cite.
Writers: the sandbox (kills, truncation, in-sandbox denials), the gateway (refusals, foreign/revoked tokens),
the evaluation service (refused requests, probing patterns), the egress proxy.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any


class EvidenceLog:
    """Thread-safe append-only evidence log. `path=None` keeps records in memory only (tests, one-off evals)."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.path.exists():  # resume: keep ids unique
                self._records = [json.loads(ln) for ln in self.path.read_text().splitlines() if ln.strip()]

    def add(self, source: str, kind: str, *, label: str = "", **detail: Any) -> str:
        """Record one event; returns its id. `source` is who saw it ("sandbox", "gateway", ...)."""
        with self._lock:
            ev_id = f"ev-{len(self._records) + 1}"
            record = {"id": ev_id, "time": time.time(), "source": source, "kind": kind, "label": label, **detail}
            self._records.append(record)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record, default=str) + "\n")
        return ev_id

    def records(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self._records if kind is None or r["kind"] == kind]
