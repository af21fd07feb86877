"""`mac env` and `mac task` from the command line (a private image cache through $MAC_ENV_CACHE)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from envkit import make_task, small_image, write_agent
from mac.cli import app


@pytest.fixture
def cli(box, monkeypatch):
    monkeypatch.setenv("MAC_ENV_CACHE", str(box / "cache"))

    def invoke(*args):
        return CliRunner().invoke(app, list(map(str, args)), terminal_width=200)

    return invoke


def test_env_import_exec_images_prune(cli, box):
    root = box / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    imported = cli("env", "import", root, "--out", box / "layout", "--workdir", "/etc", "--env", "MODE=test")
    assert imported.exit_code == 0, imported.output
    ran = cli("env", "exec", f"oci:{box / 'layout'}", "echo $MODE; pwd; exit 3", "--host-runtime")
    assert ran.exit_code == 3 and ran.stdout == "test\n/etc\n", ran.output
    listed = cli("env", "images", "--json")
    [entry] = json.loads(listed.stdout)
    assert entry["ref"] == f"oci:{box / 'layout'}" and entry["files"] == 1
    pruned = cli("env", "prune")
    assert pruned.exit_code == 0 and "1 image(s) removed" in pruned.output
    assert json.loads(cli("env", "images", "--json").stdout) == []
    checked = cli("env", "check")
    assert checked.exit_code == 0 and "bwrap" in checked.output and "podman" in checked.output


def test_task_check_and_run(cli, box):
    image = small_image(box / "image")
    good = make_task(box / "good", image)
    broken = make_task(box / "broken", image, test="echo 1 > /logs/verifier/reward.txt")
    checked = cli("task", "check", good, "--json")
    assert checked.exit_code == 0 and json.loads(checked.stdout)["ok"] is True, checked.output
    assert cli("task", "check", good, broken).exit_code == 1
    agent = write_agent(box / "agent", 'await environment.exec("echo 42 > /app/answer.txt")')
    ran = cli("task", "run", good, "--agent", agent, "--json")
    assert ran.exit_code == 0, ran.output
    result = json.loads(ran.stdout)
    assert result["reward"] == 1.0 and result["simulated"] and result["exec_log"][0]["command"].startswith("echo 42")
    table = cli("task", "run", good, "--agent", agent)
    assert "SIMULATED" in table.output and "good" in table.output
    missing = cli("task", "run", good, "--agent", box / "nowhere")
    assert missing.exit_code == 2 and "not found" in missing.output
