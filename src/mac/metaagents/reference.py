"""`reference`: MAC's built-in, offline meta-agent. Deterministic given its seed.

It is untrusted-side code like any meta-agent: `reference_program.py` (stdlib + openai + mac.sdk only) is
staged read-only at /opt/metaagent and runs inside the dev sandbox. It writes candidate artifacts from a small
space of designs (one call, chain of thought, self-consistency with k samples at a temperature, answer-format
repair; for code: sampling, running the programs on the public tests, a repair round), screens them on the
first dev problems through the real evaluation API, refines the best on the whole dev split while GET /budget
says there is time and quota, and always leaves the best design so far as `agent.py`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mac.metaagents.base import STAGE_MOUNT, LaunchContext, MetaAgent, register

PROGRAM = Path(__file__).with_name("reference_program.py")
TEMPLATES = (Path(__file__).with_name("reference_template.txt"), Path(__file__).with_name("reference_template_code.txt"))
"""The artifact sources the program fills in, for short answers and for code (Python kept as text: it is only
ever run inside sandboxes)."""


@register
class ReferenceMetaAgent(MetaAgent):
    name = "reference"
    description = "built-in offline meta-agent: screens agent designs with first_k, refines the best"

    def stage(self, ctx: LaunchContext) -> None:
        for source in (PROGRAM, *TEMPLATES):
            shutil.copyfile(source, ctx.stage_dir / source.name)
            (ctx.stage_dir / source.name).chmod(0o644)

    def argv(self, ctx: LaunchContext) -> list[str]:
        return ["python", f"{STAGE_MOUNT}/{PROGRAM.name}", "--seed", str(ctx.seed), "--workspace", "/workspace"]
