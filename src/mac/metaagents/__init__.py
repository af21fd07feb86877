"""Meta-agents: adapters over `mac.metaagents.base.MetaAgent`, looked up by name (`reference`, `command`, ...)."""

from mac.metaagents.base import STAGE_MOUNT, LaunchContext, MetaAgent, get_metaagent, metaagent_names, register

__all__ = ["STAGE_MOUNT", "LaunchContext", "MetaAgent", "get_metaagent", "metaagent_names", "register"]
