"""MAC's SWE/Terminal-Bench compatibility module: `from base_agent import BaseAgent, BaseEnvironment, AgentContext`."""

from harbor.agents.base import BaseAgent
from harbor.environments.base import BaseEnvironment, ExecResult
from harbor.models.agent.context import AgentContext
from harbor.models.trial.result import AgentInfo

__all__ = ["AgentContext", "AgentInfo", "BaseAgent", "BaseEnvironment", "ExecResult"]
