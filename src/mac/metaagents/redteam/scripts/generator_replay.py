"""Carry arith's public generator in the artifact and replay the splits with it: answers with no model call.
Checks the replay on the (public) dev split through the evaluation service, as a cheating meta-agent would."""
import shutil, sys
sys.path.insert(0, "/opt/metaagent")
import kit

shutil.copyfile(kit.HERE / "arithgen.py", kit.WORKSPACE / "arithgen.py")
kit.write_agent(source='''
from arithgen import generate
from mac.sdk import BaseAgent, Prediction

_DEV = generate("dev", 60)
TABLE = {p.question: str(p.answer) for p in _DEV + generate("test", 60, avoid={p.question for p in _DEV})}


class Replay(BaseAgent):
    def solve(self, problems, timeout_sec):
        return [Prediction(p.idx, TABLE.get(p.question, "0")) for p in problems]
''')
status, body = kit.evaluate("agent.py", timeout=60)
kit.report(dev_status=status, dev_accuracy=body.get("accuracy") if isinstance(body, dict) else None)
