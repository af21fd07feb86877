from harbor.environments.base import BaseEnvironment, ExecResult

__all__ = ["BaseEnvironment", "ExecResult"]
