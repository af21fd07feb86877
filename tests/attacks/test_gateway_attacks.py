"""Attacks an artifact can try from its sandbox through the runner: other tokens, revoked tokens, hostile
predictions aimed at the grader, and looking for the answers. Always on the bwrap backend (the unsandboxed
debug backend is expected to fail these; it is refused for test splits)."""

from __future__ import annotations

import asyncio
import json
import tempfile
import textwrap
from pathlib import Path

from mac.config import Quota, SandboxLimits, TaskModelSpec
from mac.domains.base import get_domain
from mac.evaluation.runner import run_artifact
from mac.evidence import EvidenceLog
from mac.gateway import Gateway, make_backend
from mac.paths import scratch_home
from mac.records import Record
from mac.sandbox.registry import get_backend

LIMITS = SandboxLimits(memory_mb=1024, pids=128)

CALL_WITH_TOKEN = """
import os
import openai
from mac.sdk import BaseAgent, Prediction

TOKEN = {token!r}

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        client = openai.OpenAI(api_key=TOKEN or self.api_key, base_url=os.environ["TASK_MODEL_API_BASE"], max_retries=0)
        try:
            client.chat.completions.create(model="x", messages=[{{"role": "user", "content": problems[0].question}}])
            outcome = "200"
        except openai.APIStatusError as exc:
            outcome = str(exc.status_code)
        return [Prediction(p.idx, outcome) for p in problems]
"""


def _artifact(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "agent.py").write_text(textwrap.dedent(source))
    return folder


async def _with_gateway(records: list[Record], body):
    domain = get_domain("arith")
    evidence = EvidenceLog()
    model = make_backend(TaskModelSpec.parse("sim"), sim_items=[domain.sim_item(i, r) for i, r in enumerate(records)])
    with tempfile.TemporaryDirectory(dir=scratch_home()) as scratch:
        Path(scratch).chmod(0o711)  # sandbox uids traverse it to their binds
        async with Gateway(model, model_name="sim", log_path=None, socket_dir=Path(scratch) / "s",
                           evidence=evidence) as gateway:
            async def evaluate(artifact: Path, token: str):
                return await run_artifact(domain=domain, records=records, split="dev", artifact=artifact,
                                          gateway=gateway, token=token, backend=get_backend("bwrap", evidence=evidence),
                                          timeout=60, limits=LIMITS, evidence=evidence, workdir=Path(scratch) / "w")
            return await body(gateway, evaluate, evidence)


def _records(n: int = 2) -> list[Record]:
    return get_domain("arith").load("dev")[:n]


def test_another_sandboxs_token_is_refused_on_this_channel(tmp_path):
    async def body(gateway, evaluate, evidence):
        mine = gateway.grant(phase="eval", quota=Quota(), label="mine")
        other = gateway.grant(phase="dev", quota=Quota(), label="other sandbox")
        result = await evaluate(_artifact(tmp_path / "a", CALL_WITH_TOKEN.format(token=other.token)), mine.token)
        return result, gateway.usage(mine.token), gateway.usage(other.token), evidence.records("foreign_token")

    result, mine, other, foreign = asyncio.run(_with_gateway(_records(), body))
    assert [d["pred"] for d in result.detailed_results] == ["401", "401"]
    assert mine.requests == 0 and other.requests == 0 and other.refused == 1
    assert len(foreign) == 1 and foreign[0]["source"] == "gateway"


def test_the_own_token_works_but_a_revoked_one_does_not(tmp_path):
    async def body(gateway, evaluate, evidence):
        grant = gateway.grant(phase="eval", quota=Quota(), label="run")
        live = await evaluate(_artifact(tmp_path / "live", CALL_WITH_TOKEN.format(token="")), grant.token)
        gateway.revoke(grant.token)
        dead = await evaluate(_artifact(tmp_path / "dead", CALL_WITH_TOKEN.format(token="")), grant.token)
        return live, dead, gateway.usage(grant.token), evidence.records("revoked_token")

    live, dead, usage, revoked = asyncio.run(_with_gateway(_records(), body))
    assert live.detailed_results[0]["pred"] == "200" and live.usage.requests == 1
    assert dead.detailed_results[0]["pred"] == "401" and dead.usage.requests == 0 and dead.usage.refused == 1
    assert usage.requests == 1 and len(revoked) == 1


def test_grader_injection_predictions_are_just_wrong(tmp_path):
    marker = tmp_path / "pwned"
    records = [r for r in get_domain("arith").load("dev") if r.answer not in {"0", "7", "12", "16", "49", "1000"}][:12]
    injections = [
        f"__import__('os').system('touch {marker}')", f"$(touch {marker})", f"`touch {marker}`",
        "{{7*7}}", "${answer}", "\\boxed{" + "9" * 5000 + "}", "1" * 20000, "1e3", "0x10", "１２",
        "nan", "\x00\x00", f"eval(compile('open(\"{marker}\", \"w\")', 'x', 'exec'))",
    ][:len(records)]
    agent = f"""
    from mac.sdk import BaseAgent, Prediction

    INJECTIONS = {injections!r}

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            return [Prediction(p.idx, INJECTIONS[p.idx]) for p in problems]
    """

    async def body(gateway, evaluate, evidence):
        grant = gateway.grant(phase="eval", quota=Quota(), label="run")
        return await evaluate(_artifact(tmp_path / "a", agent), grant.token)

    result = asyncio.run(_with_gateway(records, body))
    assert result.success and result.correct == 0 and len(result.detailed_results) == len(records)
    assert all(d["correct"] is False for d in result.detailed_results)
    assert not marker.exists()


SCAN_AGENT = """
import json, os
from mac.sdk import BaseAgent, Prediction

# built at run time, so this file itself contains neither
NEEDLES = {{"answer": ({left!r} + {right!r}).encode(), "control": ({cleft!r} + {cright!r}).encode()}}
SKIP = ("/proc", "/sys", "/dev")

def look(data, where, hits):
    for name, needle in NEEDLES.items():
        if needle in data:
            hits[name].append(where)

def scan():
    hits, files = {{name: [] for name in NEEDLES}}, 0
    for root, dirs, names in os.walk("/", onerror=lambda e: None):
        if root.startswith(SKIP):
            dirs[:] = []
            continue
        for name in names:
            files += 1
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as fh:
                    look(fh.read(4 << 20), path, hits)
            except OSError:
                pass
    for pid in os.listdir("/proc"):
        for leaf in ("environ", "cmdline"):
            try:
                with open(f"/proc/{{pid}}/{{leaf}}", "rb") as fh:
                    look(fh.read(), f"/proc/{{pid}}/{{leaf}}", hits)
            except OSError:
                pass
    look(repr(dict(os.environ)).encode(), "environ", hits)
    return {{"files": files, "hits": hits}}

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        report = json.dumps(scan())
        return [Prediction(p.idx, report) for p in problems]
"""


def test_answers_are_nowhere_in_the_artifacts_view(tmp_path):
    marker, control = "918273645", "control-5551234"
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"id": "m1", "question": f"Sam has 4 boxes of 6 pens ({control}). How many pens?", "answer": marker},
            {"id": "m2", "question": "A train goes 60 km an hour for 3 hours. How far does it go?", "answer": marker}]
    (data / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    records = get_domain("arith").load("dev", data)
    agent = SCAN_AGENT.format(left=marker[:4], right=marker[4:], cleft=control[:7], cright=control[7:])

    async def body(gateway, evaluate, evidence):
        grant = gateway.grant(phase="eval", quota=Quota(), label="run")
        return await evaluate(_artifact(tmp_path / "a", agent), grant.token)

    result = asyncio.run(_with_gateway(records, body))
    assert result.success, result.error
    report = json.loads(result.detailed_results[0]["pred"])
    assert report["files"] > 100  # it did look around
    assert "/mac/in/problems.json" in report["hits"]["control"]  # and would have seen what is there
    assert report["hits"]["answer"] == [], report["hits"]
