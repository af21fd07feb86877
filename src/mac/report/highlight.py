"""A tiny Python highlighter over the stdlib `tokenize`: escaped HTML with <span class="..."> per token.

Source that does not tokenize (not Python, or broken) comes back escaped and unhighlighted. Every piece of
text, token or gap, goes through `html.escape`, so the output is safe for any input.
"""

from __future__ import annotations

import builtins
import html
import io
import keyword
import token
import tokenize

_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
_CONSTANTS = frozenset({"True", "False", "None"})


def highlight_python(source: str) -> str:
    """`source` as escaped HTML with spans: k keyword, b builtin, s string, c comment, n number, f def/class name,
    d decorator."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return html.escape(source)
    offsets = _line_offsets(source)
    out: list[str] = []
    pos = 0
    previous = ""
    for tok in tokens:
        start = offsets[tok.start[0] - 1] + tok.start[1] if tok.start[0] - 1 < len(offsets) else len(source)
        end = offsets[tok.end[0] - 1] + tok.end[1] if tok.end[0] - 1 < len(offsets) else len(source)
        if start < pos:  # DEDENT/ENDMARKER tokens point back; nothing to emit
            continue
        out.append(html.escape(source[pos:start]))
        css = _css_class(tok, previous)
        text = html.escape(source[start:end])
        out.append(f'<span class="{css}">{text}</span>' if css and text else text)
        pos = end
        if tok.type not in (token.NL, token.NEWLINE, token.INDENT, token.DEDENT, tokenize.COMMENT):
            previous = tok.string
    out.append(html.escape(source[pos:]))
    return "".join(out)


def _line_offsets(source: str) -> list[int]:
    """Character offset of the start of each line as tokenize counts lines (\\n, \\r\\n and \\r end one)."""
    offsets, total = [], 0
    for line in io.StringIO(source, newline="").readlines():
        offsets.append(total)
        total += len(line)
    offsets.append(total)
    return offsets


def _css_class(tok: tokenize.TokenInfo, previous: str) -> str:
    kind = tok.type
    if kind == tokenize.COMMENT:
        return "c"
    if kind == token.STRING or kind in _FSTRING_TYPES:
        return "s"
    if kind == token.NUMBER:
        return "n"
    if kind == token.NAME:
        if previous in ("def", "class"):
            return "f"
        if tok.string in _CONSTANTS or keyword.iskeyword(tok.string) or keyword.issoftkeyword(tok.string):
            return "k"
        return "b" if tok.string in _BUILTINS else ""
    if kind == token.OP:
        return "d" if tok.string == "@" and tok.line[: tok.start[1]].strip() == "" else ""
    return ""


_FSTRING_TYPES = frozenset(getattr(token, name) for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
                           if hasattr(token, name))
