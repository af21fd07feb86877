from harbor.agents.base import BaseAgent

__all__ = ["BaseAgent"]
