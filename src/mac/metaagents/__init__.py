"""Meta-agents: adapters over `mac.metaagents.base.MetaAgent`, looked up by name (`reference`, `command`, ...)."""

from mac.metaagents.base import LOG_MOUNT, STAGE_MOUNT, LaunchContext, MetaAgent, get_metaagent, metaagent_names, register

__all__ = ["LOG_MOUNT", "STAGE_MOUNT", "LaunchContext", "MetaAgent", "get_metaagent", "metaagent_names", "register"]
