"""`baseline`: a meta-agent that only copies the domain's baseline artifact into its workspace and exits.

    mac run --domain arith --meta-agent baseline --baseline naive

It goes through the whole trial (sandbox, freeze, verification), so the naive and strong baselines appear in
a job's leaderboard as comparison rows measured exactly like any meta-agent.
"""

from __future__ import annotations

import shutil
from typing import Any

from mac.domains.base import get_domain
from mac.errors import ConfigError
from mac.metaagents.base import STAGE_MOUNT, LaunchContext, MetaAgent, register

KINDS = ("naive", "strong")


@register
class BaselineMetaAgent(MetaAgent):
    name = "baseline"
    description = "copy the domain's naive or strong baseline artifact (--baseline naive|strong)"

    def __init__(self, baseline: str = "naive", **options: Any):
        super().__init__(**options)
        if baseline not in KINDS:
            raise ConfigError(f"unknown baseline {baseline!r}; known: {', '.join(KINDS)}")
        self.baseline = baseline

    def stage(self, ctx: LaunchContext) -> None:
        source = get_domain(ctx.domain).baseline(self.baseline)
        shutil.copytree(source, ctx.stage_dir / "artifact", symlinks=False,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for path in [ctx.stage_dir / "artifact", *(ctx.stage_dir / "artifact").rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)

    def argv(self, ctx: LaunchContext) -> list[str]:
        return ["sh", "-c", f"cp -R {STAGE_MOUNT}/artifact/. /workspace/"]

    def options(self) -> dict[str, Any]:
        return {"baseline": self.baseline}
