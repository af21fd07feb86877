"""`command`: any command line as the meta-agent (experiments, red-team runs, third-party agents).

    mac run --domain arith --meta-agent command --command "python my_agent_builder.py"
    mac run --domain arith --meta-agent command --command "python /opt/builder/build.py" --mount /opt/builder

The command runs through `sh -c` inside the meta-agent's sandbox with the same environment as any meta-agent
(cwd /workspace). Quote it as one argument. Each `--mount DIR` (option `mounts`) shows a host folder read-only
inside the sandbox at the same path, so a user's own scripts are reachable; MAC's data, jobs and scratch
folders can never be mounted (answers must not enter a sandbox).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from collections.abc import Iterable

from mac.errors import ConfigError
from mac.metaagents.base import LaunchContext, MetaAgent, register
from mac.sandbox.base import Bind


@register
class CommandMetaAgent(MetaAgent):
    name = "command"
    description = "run any command line as the meta-agent (--command '...', --mount DIR)"

    def __init__(self, command: str | None = None, mounts: list[str] | None = None, **options: Any):
        super().__init__(**options)
        if not command or not command.strip():
            raise ConfigError("meta-agent 'command' needs a command line: --command \"python build.py\"")
        self.command = command
        self.mounts = check_mounts(mounts or [])

    def argv(self, ctx: LaunchContext) -> list[str]:
        return ["sh", "-c", self.command]

    def binds(self, ctx: LaunchContext) -> list[Bind]:
        return [Bind(src=Path(folder), dst=folder) for folder in self.mounts]

    def options(self) -> dict[str, Any]:
        return {"command": self.command, **({"mounts": list(self.mounts)} if self.mounts else {})}


def check_mounts(mounts: Iterable[str], protected: Iterable[Path] = ()) -> list[str]:
    """The mounts as absolute, real folder paths, once each is known to be safe and reachable: an existing
    folder, not a path the sandbox reserves (/tmp, /usr, /workspace, ...), not overlapping MAC's data, scratch,
    runtime and secrets folders nor `protected` (a job's data and jobs folder, a pinned test seed file), and
    traversable by the sandbox uids."""
    from mac.paths import data_home, is_root, runtime_home, scratch_home, secrets_home
    from mac.sandbox.argv import check_destination
    from mac.sandbox.prepare import unreachable_for

    if isinstance(mounts, (str, bytes)):
        raise ConfigError(f"mounts must be a list of folders, not {mounts!r}: mounts = [\"/opt/builder\"]")
    guarded = [Path(p).resolve() for p in (data_home(), scratch_home(), runtime_home(), secrets_home(), *protected)]
    checked = []
    for mount in mounts:
        folder = Path(mount).resolve()
        if not folder.is_dir():
            raise ConfigError(f"--mount {mount}: no such folder; mount the folder that holds your script")
        for guard in guarded:
            if folder == guard or guard in folder.parents or folder in guard.parents:
                raise ConfigError(f"--mount {mount} overlaps {guard}, which holds data, secrets, results or other trials' "
                                  "files that must never enter a sandbox: mount a folder of your own scripts only")
        try:
            check_destination(str(folder))
        except ConfigError as exc:
            raise ConfigError(f"--mount {mount}: {exc}; move the folder elsewhere (e.g. under /opt or /srv)") from None
        blocked = unreachable_for(folder, -1) if is_root() else None
        if blocked is not None:
            raise ConfigError(f"--mount {mount}: sandboxes run as unprivileged uids and cannot traverse {blocked}: "
                              f"`chmod o+x` the folders on the way and `chmod -R o+rX {folder}`")
        if not os.access(folder, os.R_OK | os.X_OK):
            raise ConfigError(f"--mount {mount}: not readable by this user")
        checked.append(str(folder))
    return checked
