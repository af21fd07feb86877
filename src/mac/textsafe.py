"""Untrusted text made safe to print: control characters escaped, Rich markup neutralised.

Artifacts, meta-agents and the files they name write strings that reach our terminal and plain-text logs (a
reason, a finding's excerpt, a path, an artifact's stderr). A raw ESC can retitle the terminal, clear it, move the
cursor over an earlier line or, on some terminals, answer back; a bidi override can make a line read differently
from what it is; a "[red]" can restyle a Rich line. Rich itself only strips a few control codes (BEL, BS, VT, FF,
CR), never ESC. So every untrusted string goes through one of:

    printable(text)              # "\\x1b]0;pwn\\x07" -> "\\x1b]0;pwn\\x07" shown literally, one line
    printable(text, multiline=True)   # keeps newlines and tabs (a stderr tail)
    for_markup(text)             # printable + rich.markup.escape: for console.print with markup on

Escapes are visible and unambiguous (`\\x1b`, `\\u202e`), so evidence stays readable; nothing is dropped.
"""

from __future__ import annotations

import re

_BIDI_AND_INVISIBLE = "\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI_AND_INVISIBLE}]")
_UNSAFE_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_AND_INVISIBLE}]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, *, multiline: bool = False, limit: int | None = None) -> str:
    """`text` (str() of anything) with control, bidi and invisible format characters written as escapes.
    `multiline` keeps newlines and tabs; `limit` cuts the result (with "...") after that many characters."""
    s = text if isinstance(text, str) else str(text)
    s = (_UNSAFE if multiline else _UNSAFE_ONE_LINE).sub(_escape, s)
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 3)] + "..."
    return s


def for_markup(text: object, *, multiline: bool = False, limit: int | None = None) -> str:
    """`printable(text)` with Rich markup escaped: safe inside a string printed with markup on."""
    from rich.markup import escape

    return escape(printable(text, multiline=multiline, limit=limit))
