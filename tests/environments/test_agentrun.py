"""`run_agent_task` end to end: a Harbor-style agent artifact in its own sandbox drives the task environment over
the relay (every call logged), calls the task model through the gateway, and its reward is the tests' verdict."""

from __future__ import annotations

import asyncio

from envkit import make_task, small_image, write_agent
from mac.config import TaskModelSpec
from mac.environments.taskjob import run_tasks


def run_one(bwrap_env, task, agent, **kwargs):
    [result] = asyncio.run(run_tasks([task], agent=agent, task_model=TaskModelSpec.parse("sim"),
                                     env_backend=bwrap_env, **kwargs))
    return result


def test_agent_solves_through_exec_and_the_model(bwrap_env, box):
    task = make_task(box / "task", small_image(box / "image"))
    agent = write_agent(box / "agent", """
        import os
        from openai import OpenAI
        reply = OpenAI(base_url=os.environ["TASK_MODEL_API_BASE"], api_key=os.environ["TASK_MODEL_API_KEY"]) \\
            .chat.completions.create(model=os.environ["TASK_MODEL_NAME"], messages=[{"role": "user", "content": instruction}])
        listing = await environment.exec("ls /app", cwd="/", timeout_sec=30)
        result = await environment.exec("echo 42 > /app/answer.txt")
        context.metadata = {"listing": listing.stdout, "model": bool(reply.choices[0].message.content)}
        context.n_input_tokens = reply.usage.prompt_tokens
    """)
    result = run_one(bwrap_env, task, agent, log_dir=box / "logs")
    assert result.error is None and result.agent.ok, result
    assert result.reward == 1.0 and result.tests.passed and result.simulated
    assert result.agent.context["metadata"] == {"listing": "README\n", "model": True}
    assert [(c["op"], c["command"], c["returncode"]) for c in result.exec_log] == [
        ("exec", "ls /app", 0), ("exec", "echo 42 > /app/answer.txt", 0)]
    assert result.exec_log[0]["cwd"] == "/" and result.exec_log[0]["timeout"] == 30
    logged = (box / "logs" / "task.exec.jsonl").read_text().splitlines()
    assert len(logged) == 2 and (box / "logs" / "gateway.jsonl").read_text().count("\n") == 1


def test_file_transfers_through_the_relay(bwrap_env, box):
    task = make_task(box / "task", small_image(box / "image"))
    agent = write_agent(box / "agent", """
        from pathlib import Path
        Path("/tmp/answer.txt").write_text("42\\n")
        await environment.upload_file("/tmp/answer.txt", "/app/answer.txt")
        await environment.download_dir("/app", "/tmp/app-copy")
        context.metadata = {"copied": sorted(p.name for p in Path("/tmp/app-copy").iterdir())}
    """)
    result = run_one(bwrap_env, task, agent)
    assert result.reward == 1.0, result
    assert result.agent.context["metadata"] == {"copied": ["README", "answer.txt"]}
    assert [c["op"] for c in result.exec_log] == ["upload_file", "download_dir"]


def test_failing_or_slow_agents_score_what_the_tests_say(bwrap_env, box):
    task = make_task(box / "task", small_image(box / "image"))
    broken = run_one(bwrap_env, task, write_agent(box / "broken", "raise RuntimeError('boom')"))
    assert broken.reward == 0.0 and not broken.agent.ok and "boom" in broken.agent.error
    slow = run_one(bwrap_env, task, write_agent(box / "slow", """
        await environment.exec("echo 42 > /app/answer.txt")
        import asyncio
        await asyncio.sleep(60)
    """), agent_timeout=2)
    assert slow.agent.timed_out and slow.reward == 1.0  # what it did before its deadline counts
    two = write_agent(box / "two", "pass")
    (two / "agent.py").write_text((two / "agent.py").read_text() + "\n\nclass Other(TestAgent):\n    pass\n\n"
                                  "class Third(TestAgent):\n    pass\n")
    ambiguous = run_one(bwrap_env, task, two)
    assert ambiguous.reward == 0.0 and "exactly one agent class" in ambiguous.agent.error
