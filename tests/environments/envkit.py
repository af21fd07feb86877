"""Helpers of the environment tests: tiny images and Harbor tasks made on the spot, offline (a uniquely named
module: several test folders have a conftest.py)."""

from __future__ import annotations

import gzip
import io
import tarfile
import textwrap
from pathlib import Path

from mac.environments import oci


def tar_layer(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A gzipped tar layer from hand-made entries (whatever a hostile image could hold)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return gzip.compress(buffer.getvalue(), mtime=0)


def entry(name: str, kind: bytes = tarfile.REGTYPE, *, data: bytes | None = None, mode: int = 0o644,
          link: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname = kind, mode, link
    if kind == tarfile.DIRTYPE:
        info.mode = mode if mode != 0o644 else 0o755
    return info, (data if kind == tarfile.REGTYPE else None)


def small_image(folder: Path, files: dict[str, str] | None = None, *, env: dict[str, str] | None = None,
                workdir: str = "/app", user: str = "") -> Path:
    """An OCI layout with /etc/passwd and the given files (used with host_runtime: programs come from the host)."""
    content = {"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nbuilder:x:1000:1000::/home/builder:/bin/sh\n",
               "app/README": "tiny image\n", **(files or {})}
    entries = [entry(f"{name}", data=text.encode(), mode=0o755 if name.endswith(".sh") else 0o644)
               for name, text in content.items()]
    oci.write_layout(folder, [tar_layer(entries)], env=env or {"GREETING": "hello"}, workdir=workdir, user=user)
    return folder


def make_task(folder: Path, image: Path, *, solve: str = "echo 42 > /app/answer.txt",
              test: str | None = None, toml_extra: str = "", instruction: str = "Write 42 into /app/answer.txt.") -> Path:
    """A Harbor task over `image` (an OCI layout); the default test rewards /app/answer.txt == 42."""
    (folder / "tests").mkdir(parents=True)
    (folder / "solution").mkdir()
    (folder / "task.toml").write_text(textwrap.dedent(f"""\
        [environment]
        docker_image = "oci:{image}"
        [mac]
        host_runtime = true
        [agent]
        timeout_sec = 60
        [verifier]
        timeout_sec = 30
        """) + toml_extra)
    (folder / "instruction.md").write_text(instruction)
    (folder / "solution" / "solve.sh").write_text(f"#!/bin/sh\n{solve}\n")
    default = ('if [ "$(cat /app/answer.txt 2>/dev/null)" = 42 ]; then echo 1 > /logs/verifier/reward.txt; '
               "else echo 0 > /logs/verifier/reward.txt; fi")
    (folder / "tests" / "test.sh").write_text(f"#!/bin/sh\n{test or default}\n")
    return folder


def write_agent(folder: Path, body: str) -> Path:
    """An agent.py whose `run` has `body` (indented for you): a Harbor-style agent as MAC's SWE artifacts are."""
    folder.mkdir(parents=True, exist_ok=True)
    source = ("from harbor.agents.base import BaseAgent\n"
              "from harbor.environments.base import BaseEnvironment\n"
              "from harbor.models.agent.context import AgentContext\n\n\n"
              "class TestAgent(BaseAgent):\n"
              "    @staticmethod\n    def name():\n        return 'test-agent'\n\n"
              "    def version(self):\n        return '1'\n\n"
              "    async def setup(self, environment: BaseEnvironment) -> None:\n        return None\n\n"
              "    async def run(self, instruction: str, environment: BaseEnvironment, context: AgentContext) -> None:\n"
              + textwrap.indent(textwrap.dedent(body), " " * 8) + "\n")
    (folder / "agent.py").write_text(source)
    return folder
