"""One registry for every kind of plugin, and third-party plugins through entry points (a real package, installed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mac.errors import ConfigError
from mac.registry import Registry

MAC = [sys.executable, "-c", "from mac.cli import app; app()"]

PYPROJECT = """
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "mac-toy-plugin"
version = "0.1.0"

[project.entry-points."mac.domains"]
toy = "mac_toy:ToyDomain"
broken = "mac_toy.broken:Nothing"
impostor = "mac_toy:ToyBuilder"

[project.entry-points."mac.metaagents"]
toy-builder = "mac_toy:ToyBuilder"

[project.entry-points."mac.sandboxes"]
toy-sandbox = "mac_toy.sandbox:ToySandbox"

[project.entry-points."mac.gateways"]
toy-llm = "mac_toy.model:make_backend"

[tool.setuptools]
packages = ["mac_toy"]
"""

TOY = '''
from mac.domains.arith import Arith
from mac.metaagents.base import MetaAgent

AGENT = ("from mac.sdk import BaseAgent, Prediction\\n"
         "class A(BaseAgent):\\n"
         "    def solve(self, problems, timeout_sec):\\n"
         "        return [Prediction(p.idx, '0') for p in problems]\\n")


class ToyDomain(Arith):
    name = "toy"
    title = "Toy"
    description = "a plugin domain from the mac-toy-plugin package"

    def instruction(self, ctx):
        return "Write agent.py."


class ToyBuilder(MetaAgent):
    name = "toy-builder"

    def argv(self, ctx):
        return ["python", "-c", f"open('agent.py', 'w').write({AGENT!r})"]
'''

SANDBOX = '''
from mac.sandbox.unsafe import UnsafeBackend


class ToySandbox(UnsafeBackend):
    name = "toy-sandbox"
'''


MODEL = '''
from mac.gateway.backend import Backend


class ToyModel(Backend):
    def __init__(self, name):
        self.upstream_model = name

    async def complete(self, body, caller):
        return {"choices": [{"message": {"role": "assistant", "content": "42"}}]}

    def stream(self, body, caller):
        raise NotImplementedError


def make_backend(spec, sim_items, sim_config):
    return ToyModel(spec.name)
'''


def test_the_registry_decorates_lists_and_names_the_known_ones():
    things: Registry[type] = Registry("thing")

    @things.register
    class Alpha:
        name = "alpha"

    things.register(dict, name="beta")
    things.add("gamma", "json:JSONDecoder")
    assert things.names() == ["alpha", "beta", "gamma"]
    assert things.get("alpha") is Alpha and things.get("gamma") is json.JSONDecoder
    assert things.origin("alpha") == "built-in"
    with pytest.raises(ConfigError, match="unknown thing 'delta'; known: alpha, beta, gamma"):
        things.get("delta")
    with pytest.raises(ConfigError, match="give it a `name`"):
        things.register(object)


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The toy plugin package, built and pip-installed (offline) into a folder of its own."""
    root = tmp_path_factory.mktemp("plugin")
    package = root / "mac-toy-plugin"
    (package / "mac_toy").mkdir(parents=True)
    (package / "pyproject.toml").write_text(PYPROJECT)
    (package / "mac_toy" / "__init__.py").write_text(TOY)
    (package / "mac_toy" / "sandbox.py").write_text(SANDBOX)
    (package / "mac_toy" / "model.py").write_text(MODEL)
    (package / "mac_toy" / "broken.py").write_text("raise RuntimeError('this plugin is broken')\n")
    site = root / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-index",
                           "--no-deps", "--target", str(site), str(package)], capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list(site.glob("mac_toy_plugin-0.1.0.dist-info/entry_points.txt"))
    return site


def _env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def test_an_installed_plugin_domain_is_listed_by_mac_domains(plugin_site, tmp_path):
    done = subprocess.run([*MAC, "domains", "--json"], env=_env(plugin_site), cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = {row["domain"]: row for row in json.loads(done.stdout)}
    assert {"aime", "arith", "science", "toy", "broken", "impostor"} <= set(rows)
    assert rows["toy"]["origin"] == "plugin mac-toy-plugin" and "mac-toy-plugin" in rows["toy"]["description"]
    assert rows["arith"]["origin"] == "built-in"
    assert "failed to load" in rows["broken"]["error"] and "this plugin is broken" in rows["broken"]["error"]
    assert "not a subclass of mac.domains.base.Domain" in rows["impostor"]["error"]
    table = subprocess.run([*MAC, "domains"], env={**_env(plugin_site), "COLUMNS": "200"}, cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "toy" in table.stdout and "plugin mac-toy-plugin" in table.stdout


def test_plugins_load_lazily_and_isolation_comes_from_the_backend(plugin_site, tmp_path):
    script = textwrap.dedent("""
        import sys
        from mac.errors import ConfigError
        from mac.metaagents import metaagent_names
        from mac.sandbox.registry import backend_names, check_backend
        assert "toy-builder" in metaagent_names() and "toy-sandbox" in backend_names()
        assert "mac_toy.sandbox" not in sys.modules, "listed without being imported"
        try:
            check_backend("toy-sandbox", {}, trial=True)
        except ConfigError as exc:
            assert "isolates nothing" in str(exc), exc
        else:
            raise AssertionError("a backend with isolated=False ran a trial")
        assert "mac_toy.sandbox" in sys.modules
        from mac.config import TaskModelSpec
        from mac.gateway import make_backend
        from mac.trial.jobcheck import check_task_model
        spec = TaskModelSpec.parse("toy-llm:toy-1")
        check_task_model(spec, base_url_given=False)
        backend = make_backend(spec)
        assert type(backend).__name__ == "ToyModel" and backend.upstream_model == "toy-1"
        try:
            make_backend(TaskModelSpec.parse("nobody:x"))
        except ConfigError as exc:
            assert "known: openai, sim, toy-llm" in str(exc), exc
        else:
            raise AssertionError("an unknown task-model backend was accepted")
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], env=_env(plugin_site), cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


def test_a_trial_runs_a_plugin_meta_agent_on_a_plugin_domain(plugin_site, tmp_path):
    done = subprocess.run([*MAC, "run", "--domain", "toy", "--meta-agent", "toy-builder", "--budget", "smoke",
                           "--dev-time", "5", "--jobs-dir", str(tmp_path / "jobs"), "--job", "plug", "--json"],
                          env=_env(plugin_site), cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    [trial] = json.loads(done.stdout)["trials"]
    assert trial["domain"] == "toy" and trial["status"] == "completed" and trial["test"]["total"] == 60
