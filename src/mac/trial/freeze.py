"""The freeze: the live workspace becomes the trial's `artifact/`, a snapshot under mac.sandbox.snapshot's rules
(no symlinks, no bytecode, no names with control characters, bounded in entries, folders, depth, path length,
files, bytes and time), with the meta-agent's credentials redacted, hashed, and recorded in trajectory/freeze.json.

It reads a tree the meta-agent wrote, so the trial runs it off the event loop with a deadline (mac.offload):
`await off_loop(lambda d: freeze_workspace(live, paths, secrets, d), seconds=FREEZE_SEC, what="freeze")`.
A workspace past the limits is refused (no artifact); the caller records the refusal and what was left out.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from mac.offload import Deadline
from mac.sandbox.snapshot import Snapshot, TreeLimits, content_hash, snapshot_workspace
from mac.store.atomic import write_json_atomic
from mac.store.paths import TrialPaths
from mac.trial.redact import redact_secrets

FREEZE_LIMITS = TreeLimits()
FREEZE_SEC = 300.0
"""Deadline of the whole freeze (walk, copy, redaction, hash); an honest artifact takes seconds at most."""


@dataclass
class Frozen:
    snapshot: Snapshot
    redacted: list[str]
    """Files of the artifact whose meta-agent credentials were replaced."""

    @property
    def odd_names(self) -> list[str]:
        """Entries refused for control characters in their names (escaped)."""
        return [s.path for s in self.snapshot.skipped if s.reason == "control_chars"]


def freeze_workspace(live: Path, paths: TrialPaths, secrets: dict[str, str], deadline: Deadline | None = None) -> Frozen:
    """Copy `live` into paths.artifact (replacing it), redact `secrets`, hash, write freeze.json; when the meta-agent
    worked in a scratch folder, the trial's workspace/ becomes a copy of the artifact. Raises TreeRefused (a
    SandboxError) past a limit, mac.offload.Cancelled / DeadlineExceeded when stopped."""
    if paths.artifact.exists():
        shutil.rmtree(paths.artifact)
    snapshot = snapshot_workspace(live, paths.artifact, limits=FREEZE_LIMITS, deadline=deadline)
    redacted = redact_secrets(paths.artifact, secrets)
    if redacted:
        snapshot.sha256 = content_hash(paths.artifact, deadline=deadline)
        if live == paths.workspace:
            redact_secrets(paths.workspace, secrets)
    write_json_atomic(paths.trajectory / "freeze.json", snapshot.model_dump(mode="json"))
    if live != paths.workspace:  # the meta-agent worked in scratch: keep its final workspace here too
        shutil.rmtree(paths.workspace, ignore_errors=True)
        shutil.copytree(paths.artifact, paths.workspace)
    return Frozen(snapshot=snapshot, redacted=redacted)
