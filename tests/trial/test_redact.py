"""Redaction of the meta-agent's credentials from a frozen workspace (mac.trial.redact)."""

from __future__ import annotations

import os

from mac.trial.redact import redact_secrets


def test_values_are_replaced_in_place_and_links_are_never_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("sk-live-abcdef123456\n")
    folder = tmp_path / "artifact"
    (folder / "pkg").mkdir(parents=True)
    (folder / "run.sh").write_text("KEY=sk-live-abcdef123456 exec x\n")
    (folder / "run.sh").chmod(0o755)
    (folder / "pkg" / "data.bin").write_bytes(b"\x00\xffsk-live-abcdef123456\x00")
    (folder / "clean.py").write_text("print('none')\n")
    os.symlink(outside, folder / "link.txt")

    changed = redact_secrets(folder, {"ANTHROPIC_API_KEY": "sk-live-abcdef123456", "SHORT": "none"})
    assert changed == ["pkg/data.bin", "run.sh"]
    assert (folder / "run.sh").read_text() == "KEY=[REDACTED:ANTHROPIC_API_KEY] exec x\n"
    assert (folder / "run.sh").stat().st_mode & 0o777 == 0o755  # still executable
    assert (folder / "pkg" / "data.bin").read_bytes() == b"\x00\xff[REDACTED:ANTHROPIC_API_KEY]\x00"
    assert (folder / "clean.py").read_text() == "print('none')\n"  # a short value is not a secret to hunt for
    assert outside.read_text() == "sk-live-abcdef123456\n"


def test_no_credentials_changes_nothing(tmp_path):
    (tmp_path / "agent.py").write_text("x = 1\n")
    assert redact_secrets(tmp_path, {}) == []
    assert redact_secrets(tmp_path / "missing", {"K": "long-enough-value"}) == []
