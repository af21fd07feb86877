"""Harbor's agent interface: construct with `logs_dir` and `model_name`, then `setup(environment)` and
`run(instruction, environment, context)`, populating `context` as the run goes (a timeout keeps what is there)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path

from harbor.environments.base import BaseEnvironment
from harbor.models.agent.context import AgentContext
from harbor.models.trial.result import AgentInfo, ModelInfo
from harbor.utils.logger import logger as global_logger


class BaseAgent(ABC):
    SUPPORTS_ATIF: bool = False

    def __init__(self, logs_dir: Path | None = None, model_name: str | None = None,
                 logger: logging.Logger | None = None, mcp_servers: list | None = None, skills_dir: str | None = None,
                 *args, **kwargs):
        self.logs_dir = Path(logs_dir) if logs_dir is not None else Path("/tmp/agent-logs")
        self.model_name = model_name
        self.logger = (logger or global_logger).getChild(type(self).__name__)
        self.mcp_servers = mcp_servers or []
        self.skills_dir = skills_dir
        self.extra_kwargs = kwargs
        provider, _, name = (model_name or "").rpartition("/")
        self._parsed_model_provider = provider or None
        self._parsed_model_name = name or None

    @staticmethod
    def name() -> str:
        return "agent"

    def version(self) -> str | None:
        return None

    @classmethod
    def import_path(cls) -> str:
        return f"{cls.__module__}:{cls.__name__}"

    def to_agent_info(self) -> AgentInfo:
        model = ModelInfo(self._parsed_model_name, self._parsed_model_provider or "") if self._parsed_model_name else None
        return AgentInfo(self.name(), self.version() or "unknown", model)

    async def setup(self, environment: BaseEnvironment) -> None:
        return None

    @abstractmethod
    async def run(self, instruction: str, environment: BaseEnvironment, context: AgentContext) -> None:
        """Work on the task through `environment`; fill `context` as you go."""

    def populate_context_post_run(self, context: AgentContext) -> None:
        return None


__all__ = ["BaseAgent"]
