"""Red-team meta-agents: one scripted attacker per attack class, each registered as `redteam-<class>`.

    mac redteam --attacks read-ground-truth,gateway-bypass      # runs them as real trials (mac.trial.redteam)

`mac.metaagents.redteam.base` holds the contract (Attack, the staging adapter), `catalogue` the classes with
their blocking checks, `scripts/` the attackers themselves (run only inside the dev sandbox, never imported).
"""

from mac.metaagents.redteam.base import ATTACKS, LAYERS, Attack, attack
from mac.metaagents.redteam import catalogue, lcb  # noqa: F401  (registers the classes)

__all__ = ["ATTACKS", "LAYERS", "Attack", "attack"]
