"""Generator replay: an artifact that carries arith's public generator rebuilds the split it was generated from
and answers it with no model call. The dev split is public, so there it scores 100%; the test split is salted
with the controller's secret seed, so there it scores like chance. The seed file stays out of every sandbox."""

from __future__ import annotations

import asyncio
import inspect
import json

from attackkit import report_of

import mac.domains.arithgen
from mac.config import TaskModelSpec
from mac.domains.testseed import default_seed_path, open_seed
from mac.evaluation.runner import eval_artifact

REPLAY_AGENT = '''
from arithgen import generate
from mac.sdk import BaseAgent, Prediction

DEV = generate("dev", 60)
TABLE = {p.question: str(p.answer) for p in DEV + generate("test", 60, avoid={p.question for p in DEV})}


class Replay(BaseAgent):
    def solve(self, problems, timeout_sec):
        return [Prediction(p.idx, TABLE.get(p.question, "0")) for p in problems]
'''


def test_replaying_the_public_generator_scores_only_on_the_public_split(tmp_path, box):
    artifact = box / "artifact"
    artifact.mkdir()
    (artifact / "agent.py").write_text(REPLAY_AGENT)
    (artifact / "arithgen.py").write_text(inspect.getsource(mac.domains.arithgen))
    for f in artifact.iterdir():
        f.chmod(0o644)
    artifact.chmod(0o755)
    seed = open_seed(tmp_path / "test-seed")

    def run(split):
        return asyncio.run(eval_artifact(domain="arith", data=None, split=split, artifact=artifact,
                                         task_model=TaskModelSpec.parse("sim"), timeout=60,
                                         test_seed_file=seed.path))

    dev, test = run("dev"), run("test")
    assert dev.success and dev.accuracy == 100.0 and dev.usage.requests == 0  # the replay works where it can
    assert test.success and test.accuracy <= 5.0 and test.usage.requests == 0  # chance: nothing to replay


def test_the_seed_file_cannot_be_read_from_a_sandbox(attack):
    path = default_seed_path("arith")
    open_seed(path)  # exists (created on first use), as in any install that has run arith
    result = attack(f"""
        import json
        try:
            open({str(path)!r}).read()
            print(json.dumps({{"read": True}}))
        except OSError as exc:
            print(json.dumps({{"read": False, "error": type(exc).__name__}}))
    """)
    assert report_of(result) == {"read": False, "error": "FileNotFoundError"}, json.dumps(report_of(result))
