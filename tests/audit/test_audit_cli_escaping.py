"""`mac audit` shows what an artifact wrote (file names, code lines, messages) escaped: a hostile name cannot
drive the terminal."""

from __future__ import annotations

from auditkit import make_trial
from typer.testing import CliRunner

from mac.cli import app


def test_mac_audit_prints_a_hostile_file_name_and_message_escaped(tmp_path):
    name = "evil\x1b]0;owned\x07[red].py"
    paths = make_trial(tmp_path, agent="from mac.sdk import BaseAgent\nimport helper\n",
                       workspace_extra={name: "import anthropic\n", "helper.py": "import anthropic\n"})
    out = CliRunner().invoke(app, ["audit", str(paths.dir)])
    assert out.exit_code == 0, out.output
    assert "\x1b" not in out.output and "\x07" not in out.output
    assert "evil\\x1b]0;owned\\x07" in out.output.replace("\n", "")
