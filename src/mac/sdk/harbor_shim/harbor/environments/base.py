"""Harbor's environment interface as an artifact sees it: async exec and file transfers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ExecResult:
    stdout: str | None = None
    stderr: str | None = None
    return_code: int = 0


class BaseEnvironment(ABC):
    default_user: str | int | None = None

    @abstractmethod
    async def exec(self, command: str, cwd: str | None = None, env: dict[str, str] | None = None,
                   timeout_sec: int | float | None = None, user: str | int | None = None) -> ExecResult:
        """Run `command` in the task environment."""

    async def upload_file(self, source_path: Path | str, target_path: str) -> None:
        raise NotImplementedError

    async def upload_dir(self, source_dir: Path | str, target_dir: str) -> None:
        raise NotImplementedError

    async def download_file(self, source_path: str, target_path: Path | str) -> None:
        raise NotImplementedError

    async def download_dir(self, source_dir: str, target_dir: Path | str) -> None:
        raise NotImplementedError

    async def is_dir(self, path: str, user: str | int | None = None) -> bool:
        return (await self.exec(f"test -d '{path}'", user=user, timeout_sec=10)).return_code == 0

    async def is_file(self, path: str, user: str | int | None = None) -> bool:
        return (await self.exec(f"test -f '{path}'", user=user, timeout_sec=10)).return_code == 0


__all__ = ["BaseEnvironment", "ExecResult"]
