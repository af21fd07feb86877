"""The static-checks seam: scans of the frozen artifact before verification.

The Integrity issue fills `static_checks` (e.g. a scan for answer tables, attempts to reach other hosts, or
reads outside the workspace). Findings are dicts with at least `kind`, `severity` and `message`, stored in
`result.json` (`findings`) for the auditor. Today no check is registered, so it returns [].
"""

from __future__ import annotations

from typing import Any, Callable

from mac.sandbox.snapshot import Snapshot
from mac.store.paths import TrialPaths

StaticCheck = Callable[[TrialPaths, Snapshot], list[dict[str, Any]]]

CHECKS: list[StaticCheck] = []
"""Registered checks, run in order on every frozen artifact (append to register one)."""


def static_checks(paths: TrialPaths, snapshot: Snapshot) -> list[dict[str, Any]]:
    """Run every registered check on the frozen artifact; a check that raises becomes a finding itself."""
    findings: list[dict[str, Any]] = []
    for check in CHECKS:
        try:
            findings.extend(check(paths, snapshot))
        except Exception as exc:  # noqa: BLE001 - a broken check must not lose the trial
            findings.append({"kind": "check_error", "severity": "info", "check": getattr(check, "__name__", "?"),
                             "message": f"{type(exc).__name__}: {exc}"})
    return findings
