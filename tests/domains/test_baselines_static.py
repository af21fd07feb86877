"""The baseline artifacts: standalone against mac.sdk, one agent class each, careful extraction in the strong ones.

(That the strong baseline beats the naive one under the sim, run through the real sandbox and gateway, is
tests/evaluation/test_baselines.py.)
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

from mac.domains import get_domain
from mac.errors import ConfigError
from mac.sdk.run import load_agent_class

ALLOWED_IMPORTS = {"mac.sdk", "re", "threading", "collections", "concurrent.futures", "__future__"}
CODE_IMPORTS = {"json", "subprocess", "sys"}
"""The lcb strong baseline runs candidate programs on the public tests in a subprocess of its own sandbox."""
BASELINES = [(d, k) for d in ("aime", "science", "arith", "lcb") for k in ("naive", "strong")]


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("domain,kind", BASELINES)
def test_baseline_is_a_standalone_artifact(domain, kind):
    agent = get_domain(domain).baseline(kind) / "agent.py"
    tree = ast.parse(agent.read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    allowed = ALLOWED_IMPORTS | (CODE_IMPORTS if domain == "lcb" else set())
    assert imported <= allowed, imported - allowed
    cls = load_agent_class(agent)
    assert cls.__name__.lower().startswith(kind)
    sys.modules.pop("agent", None)
    if str(agent.parent) in sys.path:
        sys.path.remove(str(agent.parent))


def test_unknown_baseline_kind():
    with pytest.raises(ConfigError, match="naive, strong"):
        get_domain("aime").baseline("medium")


@pytest.fixture(scope="module")
def strong():
    names = ("aime", "science", "arith")
    return {d: load_module(get_domain(d).baseline("strong") / "agent.py", f"strong_{d}") for d in names}


def test_strong_aime_extraction(strong):
    extract = strong["aime"].extract
    assert extract("Step 1: blah.\nTherefore, the final answer is \\boxed{033}.") == "33"
    assert extract("So the final answer is 204.") == "204"
    assert extract("So the answer is three hundred and thirty-three.") == "333"
    assert extract("So the answer is twenty.") == "20"
    assert extract("I am not sure.") is None
    assert strong["aime"].words_to_int("ninety-nine") == 99 and strong["aime"].words_to_int("many") is None


def test_strong_science_extraction_checks_the_choices(strong):
    extract, letters = strong["science"].extract, {"A", "B", "C", "D"}
    assert extract("Reasoning.\nAnswer: C", letters) == "C"
    assert extract("I would go with option (B).", letters) == "B"
    assert extract("I am fairly confident the fourth option is the right one.", letters) == "D"
    assert extract("I am fairly confident the fifth option is the right one.", letters) is None
    assert extract("Answer: F", letters) is None


def test_strong_arith_extraction_reads_big_numbers(strong):
    extract = strong["arith"].extract
    assert extract("Therefore, the final answer is \\boxed{12,345}.") == "12345"
    assert extract("So the final answer is 4096.") == "4096"


def test_lcb_extraction_reads_the_program_out_of_a_reply():
    naive = load_module(get_domain("lcb").baseline("naive") / "agent.py", "naive_lcb")
    strong = load_module(get_domain("lcb").baseline("strong") / "agent.py", "strong_lcb")
    reply = "Idea first.\n```python\nprint(int(input()) + 1)\n```\n\nExample usage:\n```\n$ python a.py\n```"
    assert strong.extract_code(reply) == "print(int(input()) + 1)\n"
    assert naive.extract_code(reply) == "$ python a.py\n"  # naive takes the last block: the sim's trap
    assert strong.extract_code("Here is the complete program:\n\nprint(1)\n") is None
    assert naive.extract_code("no fence: print(1)") == "no fence: print(1)"
