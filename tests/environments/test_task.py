"""The Harbor task format: loading, network policy, image resolution, reward files, and `check_task`."""

from __future__ import annotations

import asyncio
import os

import pytest

from envkit import make_task, small_image
from mac.environments.check import check_task
from mac.environments.task import load_task, resolve_templates
from mac.environments.verify import read_reward
from mac.errors import ConfigError


def test_loader_reads_harbor_fields_and_defaults_to_no_network(box):
    image = small_image(box / "image")
    task = load_task(make_task(box / "t", image, toml_extra='[verifier.env]\nMODE = "${MODE:-strict}"\n'))
    assert task.name == "t" and task.instruction.startswith("Write 42")
    assert task.image == f"oci:{image}" and task.config.verifier.timeout_sec == 30
    assert task.network().enabled is False
    assert resolve_templates(task.config.verifier.env) == {"MODE": "strict"}
    spec = task.environment_spec("x")
    assert spec.base == task.path and spec.host_runtime and not spec.network.enabled


@pytest.mark.parametrize("section,allowed", [
    ('network_mode = "allowlist"\nallowed_hosts = ["example.org"]', ["example.org"]),
    ("allow_internet = true", None),
    ('network_mode = "no-network"', []),
])
def test_network_policy(box, section, allowed):
    folder = make_task(box / "t", small_image(box / "image"))
    toml = (folder / "task.toml").read_text().replace("[environment]\n", f"[environment]\n{section}\n")
    (folder / "task.toml").write_text(toml)
    policy = load_task(folder).network(public_allow=["extra.example"])
    if allowed is None:
        assert "pypi.org:443" in policy.allow and "extra.example" in policy.allow
    else:
        assert policy.allow == allowed


def test_malformed_tasks_name_the_fix(box):
    with pytest.raises(ConfigError, match="no task.toml"):
        load_task(box)
    folder = make_task(box / "t", small_image(box / "image"))
    (folder / "tests" / "test.sh").unlink()
    with pytest.raises(ConfigError, match="tests/test.sh"):
        load_task(folder)
    (folder / "task.toml").write_text("[environment\n")
    with pytest.raises(ConfigError, match="task.toml"):
        load_task(folder)


def test_reward_files(box):
    verifier = box / "v"
    verifier.mkdir()
    assert read_reward(verifier).error.startswith("the tests wrote no")
    (verifier / "reward.txt").write_text("0.5\n")
    assert read_reward(verifier).reward == 0.5
    (verifier / "reward.json").write_text('{"reward": 1, "coverage": 0.25}')
    outcome = read_reward(verifier)
    assert outcome.reward == 1.0 and outcome.rewards == {"reward": 1.0, "coverage": 0.25}  # json wins, like Harbor
    (verifier / "reward.json").unlink()
    (verifier / "reward.txt").unlink()
    os.symlink("/etc/hostname", verifier / "reward.txt")  # planted link: never followed by the controller
    assert read_reward(verifier).reward is None
    (verifier / "reward.txt").unlink()
    (verifier / "reward.txt").write_text("nan")
    assert read_reward(verifier).reward is None


def test_check_passes_a_sound_task_and_flags_broken_ones(bwrap_env, box):
    image = small_image(box / "image")
    sound = load_task(make_task(box / "sound", image))
    always = load_task(make_task(box / "always", image, test="echo 1 > /logs/verifier/reward.txt"))
    unsolvable = load_task(make_task(box / "unsolvable", image, solve="exit 0"))

    async def body():
        return [await check_task(bwrap_env, t) for t in (sound, always, unsolvable)]

    ok, passes_without, fails_with = asyncio.run(body())
    assert ok.ok and ok.with_solution.reward == 1.0 and ok.without_solution.reward == 0.0 and ok.solve_returncode == 0
    assert not passes_without.ok and passes_without.without_solution.reward == 1.0
    assert not fails_with.ok and fails_with.with_solution.reward == 0.0
