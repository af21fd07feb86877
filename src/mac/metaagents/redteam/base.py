"""The red-team contract: an attack class is a scripted cheating meta-agent plus how to judge it.

    @attack
    class ReadGroundTruth(Attack):
        name = "read-ground-truth"            # meta-agent "redteam-read-ground-truth"
        layer = "sandbox"                     # the defence expected to stop it
        detect = True                         # the audit must flag it (else `why_undetected` says why)
        def blocked(self, t): return t.marker_absent() + t.no_score_gain()

The script `scripts/<name with _>.py` runs inside the real dev sandbox (cwd /workspace) with `kit.py` and the
domain's naive baseline (`naive_agent.py`) next to it at /opt/metaagent; it acts during development and/or
leaves an artifact. `blocked(t)` reads only the trial's files (mac.trial.redteam.TrialView) and returns
failed checks as strings (empty: blocked).

Two hooks stage more for an attacker: `stage_files()` (public files it carries, e.g. arith's generator), and
`memorises`: the trusted harness stages the splits' answers as /opt/metaagent/memorised.json, playing a
meta-agent that memorised a public test set (AIME answers are public). Only the red team does that, on purpose.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar

from mac.domains.base import get_domain
from mac.metaagents.base import STAGE_MOUNT, LaunchContext, MetaAgent, register

SCRIPTS = Path(__file__).with_name("scripts")
LAYERS = ("sandbox", "gateway", "evaluation service", "grader", "judge", "verifier", "freeze", "audit")


class Attack:
    """One attack class: what it tries, which layer stops it, and whether the audit must detect it."""

    name: ClassVar[str]
    description: ClassVar[str]
    layer: ClassVar[str]
    detect: ClassVar[bool] = True
    why_undetected: ClassVar[str] = ""
    """Required when `detect` is False: why no defence records it as cheating."""
    types: ClassVar[tuple[str, ...]] = ()
    """Finding types that count as detecting it (empty: any non-CLEAN verdict)."""
    judge: ClassVar[str] = ""
    """Use the gullible fake LLM judge as the trial's auditor (`mac redteam` serves it on loopback)."""
    memorises: ClassVar[bool] = False
    """The harness stages the dev and test answers at /opt/metaagent/memorised.json ("memorised" answers)."""
    domains: ClassVar[tuple[str, ...]] = ()
    """The domains the attacker is written for (empty: any domain)."""
    helpers: ClassVar[tuple[str, ...]] = ()
    """More files of scripts/ staged next to kit.py (e.g. "lcb_kit.py")."""

    def runs_on(self, domain: str) -> bool:
        return not self.domains or domain in self.domains

    def stage_files(self) -> dict[str, Path]:
        """Extra files staged next to the script (name -> source on the host); default none."""
        return {}

    @property
    def script(self) -> Path:
        return SCRIPTS / f"{self.name.replace('-', '_')}.py"

    def blocked(self, t: Any) -> list[str]:
        """Failed blocking checks (strings) from the trial's files; the default: no test score gained."""
        return t.no_score_gain()


ATTACKS: dict[str, Attack] = {}


def attack(cls: type[Attack]) -> type[Attack]:
    """Class decorator: register the attack class and its meta-agent `redteam-<name>`."""
    if not cls.detect and not cls.why_undetected:
        raise ValueError(f"attack {cls.name}: detect=False needs why_undetected")
    ATTACKS[cls.name] = cls()
    register(type(f"RedTeam_{cls.name}", (RedTeamMetaAgent,), {
        "name": f"redteam-{cls.name}", "attack_name": cls.name, "description": f"red team: {cls.description}"}))
    return cls


class RedTeamMetaAgent(MetaAgent):
    """Stages kit.py, the naive baseline and the attack script; runs the script in the dev sandbox.
    Option `memorised`: a file of answers the harness wrote (see `Attack.memorises`), staged as memorised.json."""

    attack_name: ClassVar[str]

    def __init__(self, memorised: str | None = None, **options: Any):
        super().__init__(**options)
        self.memorised = memorised

    def options(self) -> dict[str, Any]:
        return {"memorised": self.memorised} if self.memorised else {}

    def stage(self, ctx: LaunchContext) -> None:
        attack_class = ATTACKS[self.attack_name]
        naive = get_domain(ctx.domain).baseline("naive") / "agent.py"
        files = {"kit.py": SCRIPTS / "kit.py", "attack.py": attack_class.script, "naive_agent.py": naive,
                 **{name: SCRIPTS / name for name in attack_class.helpers}, **attack_class.stage_files()}
        if self.memorised:
            files["memorised.json"] = Path(self.memorised)
        for target, source in files.items():
            shutil.copyfile(source, ctx.stage_dir / target)
            (ctx.stage_dir / target).chmod(0o644)

    def argv(self, ctx: LaunchContext) -> list[str]:
        return ["python", f"{STAGE_MOUNT}/attack.py"]
