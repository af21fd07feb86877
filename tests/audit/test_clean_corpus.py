"""Clean code must not be flagged: realistic honest artifacts (nothing >= medium), and the shipped baselines and
the reference meta-agent's artifacts (no finding at all above info)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from auditkit import DEV_ANSWERS, at_least, dev_records, write

import mac.domains
import mac.metaagents
from mac.audit import scan_workspace
from mac.domains import get_domain
from mac.errors import MacError

SINGLE_CALL = '''
from mac.sdk import BaseAgent, ModelClient, Prediction

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        client = ModelClient()
        return [Prediction(p.idx, client.chat([{"role": "user", "content": p.question}])) for p in problems]
'''

SELF_CONSISTENCY = '''
"""Self-consistency: k samples per problem, majority vote over extracted answers."""
import os
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed

from openai import OpenAI
from mac.sdk import BaseAgent, Prediction, remaining

K = 7
TEMPERATURE = 0.7
BOXED = re.compile(r"\\\\boxed\\{\\s*(-?\\d+)\\s*\\}")
FEW_SHOT = [
    {"role": "user", "content": "What is 2 + 3? Answer as \\\\boxed{N}."},
    {"role": "assistant", "content": "2 + 3 = 5, so \\\\boxed{5}."},
]


def extract(text):
    found = BOXED.findall(text or "")
    return str(int(found[-1])) if found else None


class Agent(BaseAgent):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.client = OpenAI(base_url=os.environ["TASK_MODEL_API_BASE"],
                             api_key=os.environ.get("TASK_MODEL_API_KEY", "none"))
        self.model_name = os.environ.get("TASK_MODEL_NAME", "task-model")

    def sample(self, problem):
        reply = self.client.chat.completions.create(
            model=self.model_name, temperature=TEMPERATURE,
            messages=FEW_SHOT + [{"role": "user", "content": problem.question}])
        return extract(reply.choices[0].message.content)

    def solve(self, problems, timeout_sec):
        votes = {p.idx: Counter() for p in problems}
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = {pool.submit(self.sample, p): p for p in problems for _ in range(K)}
            for future in as_completed(futures):
                if remaining() < 2:
                    break
                try:
                    answer = future.result()
                except Exception:
                    continue
                if answer is not None:
                    votes[futures[future].idx][answer] += 1
        return [Prediction(i, c.most_common(1)[0][0] if c else "0") for i, c in votes.items()]
'''

MAC_COMPAT = '''
import re
import time
from base_agent import BaseScienceAgent, Prediction
from openai_helper import OpenAIHelper

LETTER = re.compile(r"Answer:\\s*\\(?([A-J])\\)?", re.IGNORECASE)
OPTIONS = ["A", "B", "C", "D", "E"]


class ScienceAgent(BaseScienceAgent):
    def solve(self, problems, timeout_sec):
        helper = OpenAIHelper()
        start, out = time.time(), []
        for p in problems:
            if time.time() - start > timeout_sec - 5:
                break
            prompt = p.question + "\\n" + "\\n".join(p.choices or []) + "\\nEnd with 'Answer: X'."
            reply = helper.chat([{"role": "user", "content": prompt}], temperature=0.0, max_tokens=2048)
            found = LETTER.findall(reply)
            out.append(Prediction(p.idx, found[-1].upper() if found else OPTIONS[0]))
        return out
'''

CODE_RUNNER = '''
"""Writes Python for arithmetic, runs it in a subprocess with a timeout, falls back to the model's answer."""
import os
import subprocess
import sys
import tempfile

from mac.sdk import BaseAgent, ModelClient, Prediction


def run_python(code, timeout=5.0):
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(code)
    try:
        done = subprocess.run([sys.executable, fh.name], capture_output=True, text=True, timeout=timeout)
        return done.stdout.strip()
    except subprocess.TimeoutExpired:
        return ""
    finally:
        os.unlink(fh.name)


class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        client = ModelClient(api_base=os.environ.get("TASK_MODEL_API_BASE"))
        preds = []
        for p in problems:
            code = client.chat([{"role": "user", "content": "Write Python printing the answer: " + p.question}])
            preds.append(Prediction(p.idx, run_python(code) or "0"))
        return preds
'''

HELPER_MODULE = {
    "agent.py": "from prompts import build\nfrom mac.sdk import BaseAgent, ModelClient, Prediction\n\n"
                "class Agent(BaseAgent):\n    def solve(self, problems, timeout_sec):\n        c = ModelClient()\n"
                "        return [Prediction(p.idx, c.chat(build(p))) for p in problems]\n",
    "prompts.py": "TEMPLATE = 'Think step by step.\\n{q}'\n\ndef build(p):\n"
                  "    return [{'role': 'user', 'content': TEMPLATE.format(q=p.question)}]\n",
    "pyproject.toml": "[project]\nname = 'artifact'\nversion = '0'\ndependencies = ['numpy>=1.26', 'sympy']\n",
    "requirements.txt": "numpy\nsympy==1.12\n",
    "notes.json": json.dumps({"tried": ["single", "cot", "sc5"], "best": "sc5", "scores": [40.0, 55.0, 61.5]}),
}

CORPUS = {"single_call": {"agent.py": SINGLE_CALL}, "self_consistency": {"agent.py": SELF_CONSISTENCY},
          "mac_compat": {"agent.py": MAC_COMPAT}, "code_runner": {"agent.py": CODE_RUNNER},
          "helper_module": HELPER_MODULE}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_clean_artifacts_have_no_medium_findings(tmp_path, name):
    folder = write(tmp_path / name, CORPUS[name])
    findings = scan_workspace(folder, dev_records=dev_records(DEV_ANSWERS))
    assert not at_least(findings, "medium"), [(f.rule, f.severity, f.location, f.message) for f in findings]


def _baselines() -> list[Path]:
    root = Path(mac.domains.__file__).parent / "baselines"
    return sorted(p.parent for p in root.glob("*/*/agent.py"))


def test_baselines_exist():
    """The domains ship naive and strong baselines; the next test scans every one of them."""
    kinds = {p.name for p in _baselines()}
    assert {"naive", "strong"} <= kinds


@pytest.mark.parametrize("folder", _baselines(), ids=lambda p: f"{p.parent.name}-{p.name}")
def test_shipped_baselines_have_no_findings(folder):
    domain = get_domain(folder.parent.name)
    try:
        records = domain.load("dev")
    except MacError:
        records = None  # imported domains have no data in a fresh clone; answer tables are then not compared
    findings = [f for f in scan_workspace(folder, dev_records=records) if f.severity != "info"]
    assert findings == []


def test_reference_meta_agent_artifacts_have_no_findings(tmp_path):
    """Every design the reference meta-agent can write (screening designs and their neighbours)."""
    program = _load_reference_program()
    rng = random.Random(0)
    designs = program.screening_designs(rng)
    designs += [n for d in designs for n in program.neighbours(d, rng)]
    records = get_domain("arith").load("dev")
    for n, d in enumerate(designs):
        folder = write(tmp_path / f"design-{n}", {"agent.py": program.render(d)})
        findings = [f for f in scan_workspace(folder, dev_records=records) if f.severity != "info"]
        assert findings == [], (d, [(f.rule, f.message) for f in findings])


def _load_reference_program():
    import importlib.util

    path = Path(mac.metaagents.__file__).parent / "reference_program.py"
    spec = importlib.util.spec_from_file_location("mac_reference_program_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
