"""The in-sandbox runner: loading the one agent class, deadlines, partial results, hostile return values."""

from __future__ import annotations

import pytest

OK_AGENT = """
from mac.sdk import BaseAgent, Prediction

class Agent(BaseAgent):
    def solve(self, problems, timeout_sec):
        return [Prediction(p.idx, str(p.idx + 1)) for p in problems]
"""


def test_plain_agent_answers_every_problem(run_sdk):
    run = run_sdk(OK_AGENT)
    assert run.returncode == 0
    assert run.payload["partial"] is False and run.payload["timed_out"] is False and run.payload["error"] is None
    assert run.preds == {0: "1", 1: "2", 2: "3"}


def test_agent_gets_gateway_settings_as_keywords(run_sdk):
    agent = """
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            seen = f"{self.api_key}|{self.api_base}|{self.model}|{type(timeout_sec).__name__}"
            return [Prediction(p.idx, seen) for p in problems]
    """
    env = {"TASK_MODEL_API_KEY": "tok", "TASK_MODEL_API_BASE": "http://127.0.0.1:9/v1", "TASK_MODEL_NAME": "m1"}
    run = run_sdk(agent, env=env, timeout=30)
    assert run.preds[0] == "tok|http://127.0.0.1:9/v1|m1|int"


def test_deadline_keeps_predictions_made_before_a_solve_that_never_returns(run_sdk):
    agent = """
    import time
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            Prediction(0, "first")
            Prediction(1, "second")
            while True:
                time.sleep(0.05)
    """
    run = run_sdk(agent, timeout=1.5)
    assert run.payload["timed_out"] is True and run.payload["partial"] is True
    assert run.preds == {0: "first", 1: "second"}
    assert "did not return within 1.5s" in run.payload["error"]
    assert run.elapsed < 10


def test_thread_pool_left_running_does_not_block_exit(run_sdk):
    agent = """
    import time
    from concurrent.futures import ThreadPoolExecutor
    from mac.sdk import BaseAgent, Prediction

    POOL = ThreadPoolExecutor(max_workers=2)

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            for _ in range(4):
                POOL.submit(time.sleep, 300)
            return [Prediction(p.idx, "x") for p in problems]
    """
    run = run_sdk(agent, timeout=60)
    assert run.payload["partial"] is False and len(run.preds) == 3
    assert run.elapsed < 15  # not the 300 s the workers sleep, nor the 60 s deadline


def test_thread_pool_context_at_deadline_still_returns_partial(run_sdk):
    agent = """
    import time
    from concurrent.futures import ThreadPoolExecutor
    from mac.sdk import BaseAgent, Prediction

    def slow(p):
        if p.idx == 0:
            return Prediction(p.idx, "fast")
        time.sleep(300)

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            with ThreadPoolExecutor(max_workers=4) as pool:   # __exit__ would wait 300 s for the workers
                return [f for f in pool.map(slow, problems)]
    """
    run = run_sdk(agent, timeout=2)
    assert run.payload["timed_out"] is True
    assert run.preds == {0: "fast"}
    assert run.elapsed < 12


def test_remaining_time_is_visible_to_the_agent(run_sdk):
    agent = """
    from mac.sdk import BaseAgent, Prediction, remaining

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            left = remaining()
            return [Prediction(p.idx, "ok" if 0 < left <= timeout_sec else f"bad {left}") for p in problems]
    """
    assert set(run_sdk(agent, timeout=40).preds.values()) == {"ok"}


@pytest.mark.parametrize("source, message", [
    ("def broken(:\n    pass\n", "SyntaxError"),
    ("X = 1\n", "defines no agent class"),
    ("from mac.sdk import BaseAgent\n"
     "class A(BaseAgent):\n    def solve(self, p, t): return []\n"
     "class B(BaseAgent):\n    def solve(self, p, t): return []\n", "2 agent classes (A, B)"),
    ("raise RuntimeError('boom at import')\n", "boom at import"),
    ("from mac.sdk import BaseAgent\nclass A(BaseAgent):\n    pass\n", "abstract"),
])
def test_load_errors_are_reported_not_crashed(run_sdk, source, message):
    run = run_sdk(source)
    assert run.returncode == 0
    assert run.payload["predictions"] == [] and run.payload["partial"] is True
    assert message in run.payload["error"]
    assert run.payload["traceback"]


def test_exception_in_solve_keeps_the_predictions_made_before(run_sdk):
    agent = """
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            Prediction(0, "7")
            raise ValueError("model said no")
    """
    run = run_sdk(agent)
    assert run.preds == {0: "7"} and run.payload["partial"] is True and run.payload["timed_out"] is False
    assert run.payload["error"] == "ValueError: model said no"


def test_hostile_return_values_are_encoded_not_crashed(run_sdk):
    agent = """
    from mac.sdk import BaseAgent, Prediction

    class Weird:
        def __repr__(self):
            raise RuntimeError("no repr")

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            return [Prediction(0, 42), Prediction([1], "list idx"), Prediction(2, "x" * 200_000),
                    {"idx": 1, "pred": "a dict"}, Prediction(Weird(), "w")]
    """
    run = run_sdk(agent)
    items = run.payload["predictions"]
    assert items[0] == {"idx": 0, "pred": None, "pred_type": "int"}
    assert items[1] == {"idx": None, "idx_repr": "[1]", "idx_type": "list", "pred": "list idx"}  # never an idx
    assert len(items[2]["pred"]) == 64 * 1024
    assert items[3] == {"idx": None, "pred": None, "item_type": "dict"}  # not a Prediction: named as such
    assert items[4]["idx"] is None and items[4]["idx_repr"] == "<Weird>" and items[4]["idx_type"] == "Weird"


def test_solve_must_return_a_list(run_sdk):
    agent = """
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            Prediction(1, "kept")
            return "not a list"
    """
    run = run_sdk(agent)
    assert "solve returned str" in run.payload["error"] and run.preds == {1: "kept"}


def test_init_without_keywords_and_solve_without_timeout(run_sdk):
    agent = """
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def __init__(self):
            super().__init__()
            self.tag = "plain"

        def solve(self, problems):
            return [Prediction(p.idx, self.tag) for p in problems]
    """
    assert set(run_sdk(agent).preds.values()) == {"plain"}


def test_type_error_inside_init_is_not_retried_silently(run_sdk):
    agent = """
    from mac.sdk import BaseAgent, Prediction

    class Agent(BaseAgent):
        def __init__(self, api_key=None, api_base=None, model=None):
            super().__init__(api_key, api_base, model)
            len(5)

        def solve(self, problems, timeout_sec):
            return []
    """
    assert "TypeError: object of type 'int' has no len()" in run_sdk(agent).payload["error"]


def test_agent_class_imported_from_a_helper_module(run_sdk):
    helper = """
    from mac.sdk import BaseAgent, Prediction

    class HelperAgent(BaseAgent):
        def solve(self, problems, timeout_sec):
            return [Prediction(p.idx, "from helper") for p in problems]
    """
    run = run_sdk("from helper_mod import HelperAgent\n", files={"helper_mod.py": helper})
    assert set(run.preds.values()) == {"from helper"}


def test_agent_file_with_another_name(run_sdk):
    run = run_sdk(OK_AGENT, agent_name="my_agent.py")
    assert run.preds == {0: "1", 1: "2", 2: "3"}


def test_watchdog_writes_once_even_when_solve_returns_at_the_deadline(run_sdk):
    agent = """
    import time
    from mac.sdk import BaseAgent, Prediction, remaining

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            out = [Prediction(p.idx, "done") for p in problems]
            while remaining() > 0:
                time.sleep(0.001)
            return out
    """
    run = run_sdk(agent, timeout=1)
    assert run.payload is not None and set(run.preds.values()) == {"done"}
