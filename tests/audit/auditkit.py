"""Helpers for the audit tests: write folders and synthetic trial folders (the layout of mac.store.TrialPaths)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from mac.audit import Finding, scan_workspace
from mac.records import Record
from mac.store import TrialConfig, TrialPaths

SEVERITY_ORDER = ("info", "low", "medium", "high", "critical")


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Create `folder` with the given relative files (text is dedented)."""
    folder.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"))
    return folder


def scan_code(tmp: Path, code: str, name: str = "agent.py", **kwargs: Any) -> list[Finding]:
    folder = write(tmp / "ws", {name: code})
    return scan_workspace(folder, **kwargs)


def at_least(findings: list[Finding], severity: str) -> list[Finding]:
    floor = SEVERITY_ORDER.index(severity)
    return [f for f in findings if SEVERITY_ORDER.index(f.severity) >= floor]


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def dev_records(answers: list[str]) -> list[Record]:
    return [Record(id=f"dev-{i}", question=f"Problem {i}: compute the value of expression number {i} carefully.",
                   answer=a) for i, a in enumerate(answers)]


DEV_ANSWERS = ["33", "7", "120", "5", "999", "42", "18", "3", "250", "64", "81", "19"]


def jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def make_trial(root: Path, *, agent: str, workspace_extra: dict[str, str] | None = None,
               evidence: list[dict[str, Any]] | None = None, dev_evals: list[dict[str, Any]] | None = None,
               trajectory: dict[str, str] | None = None, domain: str = "arith",
               result: bool = False) -> TrialPaths:
    """A finished trial folder: config.json, workspace/ and its frozen copy artifact/, logs, trajectory/."""
    paths = TrialPaths(root / "jobs" / "job-1" / "trial-1")
    paths.create()
    files = {"agent.py": agent, **(workspace_extra or {})}
    write(paths.workspace, files)
    write(paths.artifact, files)
    paths.config.write_text(TrialConfig(job="job-1", trial="trial-1", domain=domain, meta_agent="command")
                            .model_dump_json())
    jsonl(paths.evidence, evidence or [])
    jsonl(paths.dev_evals, dev_evals or [])
    write(paths.trajectory, trajectory or {"command.txt": "python build.py\n", "stdout.txt": "done\n"})
    if result:
        paths.result.write_text(json.dumps({"job": "job-1", "trial": "trial-1", "integrity_verdict": None,
                                            "findings": [], "evidence_count": 0, "status": "completed"}))
    return paths
