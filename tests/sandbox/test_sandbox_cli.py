"""`mac sandbox check` and `mac setup`."""

from __future__ import annotations

from typer.testing import CliRunner

from mac.cli import app


def test_check_prints_the_isolation_table():
    result = CliRunner().invoke(app, ["sandbox", "check"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for row in ("bubblewrap", "user namespaces", "uids", "cgroups", "seccomp", "interpreter", "runtime"):
        assert row in result.output


def test_setup_builds_or_finds_the_runtime(bwrap_backend):
    result = CliRunner().invoke(app, ["setup"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "runtime (default): ready" in result.output
