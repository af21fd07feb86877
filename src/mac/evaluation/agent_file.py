"""Resolve the `agent_file` of an evaluation request inside the workspace, without following anything out."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from mac.errors import ArtifactError

SANDBOX_WORKSPACE = "/workspace"
"""Where the workspace is mounted in the meta-agent's sandbox: `/workspace/x.py` names `x.py` in it."""


def resolve_agent_file(workspace: Path, agent_file: object) -> str:
    """The workspace-relative path of `agent_file`, checked to be a regular file inside `workspace`.

    Accepted: a relative path ("agent.py", "v2/agent.py") or the same path under the sandbox mount
    ("/workspace/agent.py"). Refused (ArtifactError, a 400): other absolute paths, "..", empty parts, symlinks
    anywhere on the way, anything that is not a regular file.
    """
    if not isinstance(agent_file, str) or not agent_file.strip():
        raise ArtifactError("'agent_file' must be a non-empty path relative to the workspace, e.g. 'agent.py'")
    path = PurePosixPath(agent_file.strip())
    if path.is_absolute():
        try:
            path = path.relative_to(SANDBOX_WORKSPACE)
        except ValueError:
            raise ArtifactError(f"agent_file {agent_file!r} is outside the workspace: give a path relative to "
                                f"{SANDBOX_WORKSPACE}, e.g. 'agent.py'") from None
    parts = path.parts
    if not parts or any(p in ("..", "") for p in parts) or "\0" in agent_file:
        raise ArtifactError(f"agent_file {agent_file!r} must stay inside the workspace (no '..')")
    if not agent_file.endswith(".py"):
        raise ArtifactError(f"agent_file {agent_file!r} must be a Python file (*.py)")
    current = Path(workspace)
    for i, part in enumerate(parts):
        current = current / part
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            raise ArtifactError(f"agent_file {agent_file!r} does not exist in the workspace") from None
        if stat.S_ISLNK(st.st_mode):
            raise ArtifactError(f"agent_file {agent_file!r} goes through a symlink ({'/'.join(parts[:i + 1])}); "
                                "evaluations never follow symlinks: copy the file instead")
        last = i == len(parts) - 1
        if last and not stat.S_ISREG(st.st_mode):
            raise ArtifactError(f"agent_file {agent_file!r} is not a regular file")
        if not last and not stat.S_ISDIR(st.st_mode):
            raise ArtifactError(f"agent_file {agent_file!r}: {'/'.join(parts[:i + 1])} is not a folder")
    return "/".join(parts)
