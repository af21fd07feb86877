"""Untrusted text in the terminal: control characters, bidi overrides and Rich markup from artifacts,
meta-agents and file names are shown as visible escapes, never acted on."""

from __future__ import annotations

import io

from rich.console import Console

from mac.cli.run import summary_table
from mac.store import TrialResult
from mac.textsafe import for_markup, printable

HOSTILE = "ok\x1b]0;owned\x07 \x1b[2J\x9b31m \u202eevil\u202c \x00 [bold red]x[/]\r\n"


def test_printable_escapes_every_control_and_bidi_character():
    out = printable(HOSTILE)
    assert out == "ok\\x1b]0;owned\\x07 \\x1b[2J\\x9b31m \\u202eevil\\u202c \\x00 [bold red]x[/]\\r\\n"
    assert out.isprintable()
    assert printable("a\tb\nc", multiline=True) == "a\tb\nc" and printable("a\tb\nc") == "a\\tb\\nc"
    assert printable("x" * 50, limit=10) == "xxxxxxx..." and printable(42) == "42"


def test_for_markup_also_neutralises_rich_markup():
    assert for_markup("[bold red]x[/] \x1b") == "\\[bold red]x\\[/] \\x1b"


def test_the_run_summary_shows_a_hostile_reason_escaped():
    result = TrialResult(job="j", trial="t", domain="arith", meta_agent="command", seed=0, task_model="sim",
                         simulated=True, status="completed", reason=f"[bold red]x[/] {HOSTILE}")
    out = io.StringIO()
    Console(file=out, width=300).print(summary_table([result]))
    assert "\x1b" not in out.getvalue() and "\u202e" not in out.getvalue()
    assert "\\x1b]0;owned" in out.getvalue() and "[bold red]x[/]" in out.getvalue()
