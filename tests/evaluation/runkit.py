"""Run an artifact the way the verifier and `mac eval` do: arith records, the sim behind a real gateway on unix
sockets, a real sandbox backend. `BACKEND` is the sandbox the runner tests use."""

from __future__ import annotations

import asyncio
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mac.config import Quota, SandboxLimits, TaskModelSpec
from mac.domains.base import get_domain
from mac.evaluation.result import EvalResult
from mac.evaluation.runner import run_artifact
from mac.evidence import EvidenceLog
from mac.gateway import Gateway, make_backend
from mac.paths import scratch_home
from mac.records import Record
from mac.sandbox.registry import get_backend

BACKEND = "bwrap"
LIMITS = SandboxLimits(memory_mb=1024, pids=128, output_bytes=256 << 10)


@dataclass
class Ran:
    result: EvalResult
    evidence: EvidenceLog
    records: list[Record]
    gateway_usage: Any


def write_artifact(folder: Path, source: str, files: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "agent.py").write_text(textwrap.dedent(source))
    for name, text in (files or {}).items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def arith_records(n: int = 4) -> list[Record]:
    return get_domain("arith").load("dev")[:n]


async def run_async(artifact: Path, *, records: list[Record] | None = None, timeout: float = 60,
                    first_k: int | None = None, quota: Quota | None = None, backend: str = BACKEND,
                    limits: SandboxLimits = LIMITS, on_start=None, domain: str = "arith",
                    workdir: Path | None = None) -> Ran:
    dom = get_domain(domain)
    records = records if records is not None else arith_records()
    evidence = EvidenceLog()
    model = make_backend(TaskModelSpec.parse("sim"), sim_items=[dom.sim_item(i, r) for i, r in enumerate(records)])
    with tempfile.TemporaryDirectory(dir=scratch_home()) as scratch:
        Path(scratch).chmod(0o711)  # sandbox uids traverse it to their binds
        async with Gateway(model, model_name="sim", log_path=Path(scratch) / "gw.jsonl",
                           socket_dir=Path(scratch) / "sockets", evidence=evidence) as gateway:
            grant = gateway.grant(phase="eval", quota=quota or Quota(), label="test")
            result = await run_artifact(domain=dom, records=records, split="dev", artifact=artifact, gateway=gateway,
                                        token=grant.token, backend=get_backend(backend, evidence=evidence),
                                        timeout=timeout, first_k=first_k, limits=limits, evidence=evidence,
                                        workdir=workdir or Path(scratch) / "work", on_start=on_start)
            return Ran(result, evidence, records, gateway.usage(grant.token))


def run(artifact: Path, **kwargs: Any) -> Ran:
    return asyncio.run(run_async(artifact, **kwargs))


SIM_AGENT = """
import re
from mac.sdk import BaseAgent, ModelClient, Prediction

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        client = ModelClient()
        out = []
        for p in problems:
            reply = client.chat([{"role": "user", "content": p.question + " Put the answer in \\\\boxed{}."}],
                                temperature=0)
            boxed = re.findall(r"\\\\boxed\\{([\\d,]+)\\}", reply)
            out.append(Prediction(p.idx, boxed[-1].replace(",", "") if boxed else ""))
        return out
"""
