"""The adapter registry, the built-in adapters' launch data, and the reference program's own constraints."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

from mac.errors import ConfigError
from mac.metaagents import STAGE_MOUNT, LaunchContext, get_metaagent, metaagent_names
from mac.metaagents.reference import PROGRAM, TEMPLATES
from mac.sandbox.base import SandboxResult


def _ctx(tmp_path: Path, domain: str = "arith") -> LaunchContext:
    stage = tmp_path / "stage"
    stage.mkdir()
    return LaunchContext(domain=domain, seed=7, instruction="# build agent.py", deadline=0.0, stage_dir=stage)


def test_registry_knows_the_builtins_and_names_them_when_wrong():
    assert {"reference", "command", "baseline"} <= set(metaagent_names())
    with pytest.raises(ConfigError, match="known: .*reference"):
        get_metaagent("no-such-agent")


def test_command_needs_a_command_and_runs_it_through_sh(tmp_path):
    with pytest.raises(ConfigError, match="--command"):
        get_metaagent("command")
    adapter = get_metaagent("command", command="echo hi > agent.py")
    assert adapter.argv(_ctx(tmp_path)) == ["sh", "-c", "echo hi > agent.py"]
    assert adapter.options() == {"command": "echo hi > agent.py"}


def test_adapters_refuse_unknown_options():
    with pytest.raises(ConfigError, match=r"does not take the option\(s\) temperature"):
        get_metaagent("reference", temperature=3)
    with pytest.raises(ConfigError, match=r"does not take the option\(s\) model"):
        get_metaagent("command", command="true", model="gpt")
    with pytest.raises(ConfigError, match="naive, strong"):
        get_metaagent("baseline", baseline="oracle")


def test_reference_stages_its_program_read_only_and_passes_the_seed(tmp_path):
    adapter = get_metaagent("reference")
    ctx = _ctx(tmp_path)
    adapter.stage(ctx)
    assert sorted(p.name for p in ctx.stage_dir.iterdir()) == sorted([PROGRAM.name, *(t.name for t in TEMPLATES)])
    argv = adapter.argv(ctx)
    assert argv[:2] == ["python", f"{STAGE_MOUNT}/{PROGRAM.name}"] and argv[argv.index("--seed") + 1] == "7"


def test_collect_writes_the_command_files(tmp_path):
    adapter = get_metaagent("command", command="true")
    trajectory = tmp_path / "trajectory"
    adapter.collect(_ctx(tmp_path), SandboxResult(returncode=3, stdout="out", stderr="err"), trajectory)
    assert (trajectory / "command.txt").read_text() == "sh -c true\n"
    assert (trajectory / "return-code.txt").read_text() == "3\n"
    assert (trajectory / "stdout.txt").read_text() == "out" and (trajectory / "stderr.txt").read_text() == "err"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_reference_program_uses_only_the_standard_library():
    assert _imports(PROGRAM) - set(sys.stdlib_module_names) - {"__future__"} == set()
    # the artifacts it writes use the SDK and the standard library only
    for template in TEMPLATES:
        assert _imports(template) - set(sys.stdlib_module_names) == {"mac"}


def _load_program():
    spec = importlib.util.spec_from_file_location("reference_program", PROGRAM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_design_renders_to_valid_python():
    program = _load_program()
    import random

    rng = random.Random(0)
    designs = program.screening_designs(rng) + program.screening_designs(rng, "code")
    designs += [n for d in designs for n in program.neighbours(d, rng)]
    for d in designs:
        source = program.render(d)
        compile(source, d["name"], "exec")
        assert "__DESIGN__" not in source and d["name"] in source
        assert ("run_public" in source) == (d["kind"] == "code")  # code designs filter on public tests
    assert any(d.get("filter") for d in designs) and any(d.get("filter") is False for d in designs)


def test_screening_is_deterministic_given_the_seed():
    import random

    program = _load_program()
    assert program.screening_designs(random.Random(5)) == program.screening_designs(random.Random(5))
