"""Run a task's tests in its environment and read the reward in the controller.

The environment is restarted first: every process still running in it (an agent's, or one it left to tamper
with the results) dies with its pid namespace. The restarted environment gets a fresh copy of the task's tests
at /tests and a fresh, empty /logs/verifier, both host folders bound over whatever the agent left at those
paths. The reward is read from that host folder afterwards, never following a symlink: reward.json
({"reward": number, ...}) when present, else reward.txt (one number), as Harbor's verifier does.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

from pydantic import BaseModel, Field

from mac.environments.base import EnvBind, Environment, ExecResult
from mac.environments.files import read_inside
from mac.environments.task import Task, resolve_templates
from mac.sandbox.uids import environment_uid

MAX_REWARD_BYTES = 64 << 10
TESTS_AT, VERIFIER_AT, SOLUTION_AT = "/tests", "/logs/verifier", "/solution"


class TestOutcome(BaseModel):
    reward: float | None = None
    rewards: dict[str, float] = Field(default_factory=dict)
    error: str | None = None
    exec: ExecResult | None = None

    @property
    def passed(self) -> bool:
        return self.reward is not None and self.reward >= 1.0


def copy_for_environment(source: Path, target: Path) -> Path:
    """A world-readable copy (scripts executable) that the environment's uid can read."""
    shutil.copytree(source, target, symlinks=False)
    for folder, _dirs, names in os.walk(target):
        os.chmod(folder, 0o755)
        for name in names:
            path = os.path.join(folder, name)
            os.chmod(path, 0o755 if name.endswith(".sh") or os.stat(path).st_mode & 0o111 else 0o644)
    return target


def fresh_folder(path: Path) -> Path:
    """An empty folder the environment's uid can write (a fresh /logs/verifier)."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    owner = environment_uid()
    if owner is not None:
        os.chown(path, owner, owner)
    path.chmod(0o755)
    return path


async def run_tests(env: Environment, task: Task, scratch: Path) -> TestOutcome:
    """Restart `env` with the tests and a fresh verifier folder, run tests/test.sh, read the reward."""
    tests = copy_for_environment(task.tests_dir, scratch / "tests")
    verifier = fresh_folder(scratch / "verifier")
    await env.restart(binds=[EnvBind(src=tests, dst=TESTS_AT, writable=True),
                             EnvBind(src=verifier, dst=VERIFIER_AT, writable=True)])
    timeout = task.config.verifier.timeout_sec or 600.0
    result = await env.exec([f"{TESTS_AT}/test.sh"], env=resolve_templates(task.config.verifier.env),
                            timeout=timeout)
    outcome = read_reward(verifier)
    outcome.exec = result
    if outcome.reward is None and result.timed_out:
        outcome.error = f"tests timed out after {timeout:g}s; " + (outcome.error or "")
    return outcome


def read_reward(verifier: Path) -> TestOutcome:
    raw_json = read_inside(verifier, "reward.json", MAX_REWARD_BYTES)
    if raw_json is not None:
        try:
            data = json.loads(raw_json)
        except ValueError:
            return TestOutcome(error="reward.json is not JSON")
        if not isinstance(data, dict):
            return TestOutcome(error="reward.json is not an object of numbers")
        rewards = {str(k): float(v) for k, v in data.items() if _number(v)}
        reward = rewards.get("reward", next(iter(rewards.values())) if len(rewards) == 1 else None)
        return TestOutcome(reward=reward, rewards=rewards,
                           error=None if reward is not None else "reward.json has no 'reward' number")
    raw_text = read_inside(verifier, "reward.txt", MAX_REWARD_BYTES)
    if raw_text is None:
        return TestOutcome(error="the tests wrote no /logs/verifier/reward.txt or reward.json")
    try:
        value = float(raw_text.decode("utf-8", "replace").strip())
    except ValueError:
        return TestOutcome(error="reward.txt does not hold a number")
    if not math.isfinite(value):
        return TestOutcome(error="reward.txt does not hold a finite number")
    return TestOutcome(reward=value, rewards={"reward": value})


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
