"""The prepare phase builds the sandbox backend the way `mac eval` does, and isolation is the backend's to say."""

from __future__ import annotations

import asyncio

import pytest

from mac.config import Budget, TaskModelSpec
from mac.domains import InstructionContext, register
from mac.domains.arith import Arith
from mac.errors import ConfigError
from mac.sandbox.unsafe import UnsafeBackend
from mac.store.models import TrialConfig
from mac.store.paths import TrialPaths
from mac.trial.job import job_configs
from mac.trial.setup import prepare_trial
from mac.trial.verify import verify_artifact


@register
class ArithWithPackages(Arith):
    """arith whose artifacts may import an extra package (as lcb's may import its judge helpers)."""

    name = "arith-with-packages"

    def allowed_packages(self) -> list[str]:
        return ["sortedcontainers"]

    def instruction(self, ctx: InstructionContext) -> str:
        return "Write agent.py."


class Passthrough(UnsafeBackend):
    """Another backend that isolates nothing, under a name other than "none"."""

    name = "passthrough"


def test_prepare_trial_puts_the_domains_allowed_packages_into_the_runtime(tmp_path):
    config = TrialConfig(job="j", trial="t", domain="arith-with-packages", meta_agent="reference",
                         sandbox_options={"runtime_packages": ["tomli"]})
    paths = TrialPaths(tmp_path / "j" / "t")
    paths.create()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    setup = prepare_trial(config, paths, None, scratch)
    assert setup.sandbox.runtime_packages == ("sortedcontainers", "tomli")  # as `mac eval` builds it, plus the job's
    assert {"sortedcontainers", "tomli"} <= set(setup.sandbox.describe()["runtime"]["packages"])


def test_isolation_is_read_from_the_backend_not_its_name(tmp_path):
    with pytest.raises(ConfigError, match="isolates nothing"):
        asyncio.run(verify_artifact(domain=Arith(), test_records=[], artifact=tmp_path, gateway=None,
                                    backend=Passthrough(), budget=Budget(), evidence=None, label="t", workdir=None))
    with pytest.raises(ConfigError, match="isolates nothing"):
        job_configs(job="j", domain="arith", meta_agent="reference", seeds=1, task_model=TaskModelSpec(),
                    budget=Budget(), sandbox="none")
