"""Credentials a meta-agent wrote into its workspace, redacted from the frozen artifact.

A real tool's API key is in its sandbox's environment; if the meta-agent writes it into a file (a debugging note,
an artifact that would call the meta-agent's provider), the freeze would copy the key into artifact/, the
trial's workspace/ and the HTML report. The controller knows the values (`MetaAgent.credentials()`), so it
replaces them before the artifact's hash is final, and records the attempt as evidence.
"""

from __future__ import annotations

import os
from pathlib import Path

from mac.store.atomic import write_bytes_atomic

MIN_SECRET_CHARS = 8
"""Shorter values (e.g. the placeholder key of a self-hosted endpoint) are too common to be told from text."""


def redact_secrets(folder: Path, secrets: dict[str, str]) -> list[str]:
    """Replace every value of `secrets` in the regular files under `folder` with `[REDACTED:NAME]`.
    Returns the files that changed (relative paths, sorted); symlinks are never followed."""
    needles = [(value.encode(), f"[REDACTED:{name}]".encode()) for name, value in sorted(secrets.items())
               if value and len(value) >= MIN_SECRET_CHARS]
    changed: list[str] = []
    if not needles or not folder.is_dir():
        return changed
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        clean = data
        for needle, mark in needles:
            clean = clean.replace(needle, mark)
        if clean != data:
            write_bytes_atomic(path, clean, mode=os.stat(path).st_mode & 0o777)
            changed.append(str(path.relative_to(folder)))
    return changed
