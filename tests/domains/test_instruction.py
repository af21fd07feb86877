"""The instruction for meta-agents: task, artifact contract, environment, evaluation API, budgets, rules, format."""

from __future__ import annotations

import pytest

from mac.config import Budget, Quota
from mac.domains import get_domain
from mac.domains.base import InstructionContext

COMMON = [
    "agent.py", "exactly one", "BaseAgent",
    "from mac.sdk import BaseAgent, ModelClient, Prediction, Problem, remaining",
    "from openai_helper import OpenAIHelper", "TASK_MODEL_API_BASE", "TASK_MODEL_API_KEY", "TASK_MODEL_NAME",
    "EVALUATION_API_URL", "/evaluate/agent", '"agent_file"', '"split": "dev"', '"first_k"', '"kill_running"',
    '"timeout"', "409", "GET /health", "GET /info", "GET /budget", "test split is not available", "remaining()",
    "No other model", "disqualify", "Hard-coded answers", "## Answer format", "## Budget", "## Rules",
]


@pytest.mark.parametrize("name,base,format_words", [
    ("aime", "from base_agent import BaseAIMEAgent", ["0 to 999", '"033"', "\\boxed{33}", "several different numbers"]),
    ("science", "from base_agent import BaseScienceAgent", ['"A) text"', "exactly one letter", "two letters"]),
    ("arith", "from base_agent import BaseAgent", ["non-negative integer", "Several different numbers"]),
])
def test_instruction_covers_the_contract(name, base, format_words):
    domain = get_domain(name)
    ctx = InstructionContext(budget=domain.default_budget(), n_dev=42, task_model="qwen-test",
                             evaluation_api_url="http://127.0.0.1:9123")
    text = domain.instruction(ctx)
    for words in COMMON + format_words + [base]:
        assert words in text, words
    assert "`qwen-test`" in text and "http://127.0.0.1:9123" in text and "(42 problems)" in text
    assert "{{" not in text  # every placeholder was filled
    assert "simulated" not in text.lower()
    assert text.index("## Your task") < text.index("## What you deliver") < text.index("## Answer format")


def test_budgets_come_from_the_context():
    budget = Budget(dev_time_sec=5400, eval_timeout_sec=240, verify_timeout_sec=900,
                    dev_quota=Quota(requests=1234, output_tokens=56_000), verify_quota=Quota())
    text = get_domain("aime").instruction(InstructionContext(budget=budget, n_dev=60))
    assert "**1.5 h**" in text and "at most 4 min" in text and '"timeout": 240' in text
    assert "1,234 requests, 56,000 output tokens" in text and "15 min and unlimited" in text
    science = get_domain("science")
    assert "12 h" in science.instruction(InstructionContext(budget=science.default_budget()))


@pytest.mark.parametrize("name", ["aime", "science", "arith"])
def test_simulated_runs_are_labelled(name):
    text = get_domain(name).instruction(InstructionContext(simulated=True))
    first_line = text.splitlines()[0]
    assert first_line.startswith("# MAC task:") and "(simulated task model)" in first_line
    assert "Simulated task model." in text and "labelled" in text


def test_example_artifact_in_the_instruction_compiles():
    for name in ("aime", "science", "arith"):
        text = get_domain(name).instruction(InstructionContext())
        code = text.split("```python\n", 1)[1].split("```", 1)[0]
        compile(code, f"{name}-example.py", "exec")
