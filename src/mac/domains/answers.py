"""Strict answer parsing shared by the domains' graders. Plain string work: never `eval`, never sympy or LaTeX.

A prediction is read in two ways, and both must not disagree:

1. *Marked* candidates: the contents of every `\\boxed{...}`, and the rest of every line after a marker such as
   "Answer:" / "the final answer is". Each is parsed as a *bare* answer; the ones that parse are the candidates.
2. Without any marked candidate, the whole prediction must be a bare answer.

A bare answer is exactly one value, after peeling harmless wrappers (`$..$`, `\\(..\\)`, `**..**`, quotes,
brackets, `\\boxed{}`, `\\text{}`, a trailing period, a leading "answer:" phrase). Several different candidates,
expressions ("30+3", "\\frac{66}{2}"), prose and junk read as None: wrong, never an error.
Inputs longer than `MAX_CHARS` are None without being scanned, so huge strings cost nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MAX_CHARS = 20_000
"""Longest prediction examined; a final answer (even with its reasoning) is far shorter."""
_MAX_PEEL = 8
"""Wrapper layers peeled at most (e.g. `$\\boxed{\\text{33}}$.`)."""

_BOXED = re.compile(r"\\boxed\s*\{")
_BRACE = re.compile(r"[{}]")
_MARKER = re.compile(r"\banswer\b(?:\s+is)?\s*[:=]?", re.IGNORECASE)
_LEAD_PHRASE = re.compile(
    r"^(?:so,?\s+|thus,?\s+|therefore,?\s+)?(?:the\s+)?(?:final\s+|correct\s+)?(?:answer|option|choice)"
    r"(?:\s+is)?\s*[:=]?\s*", re.IGNORECASE)
_PAIRS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("__", "__"),
          ("`", "`"), ('"', '"'), ("'", "'"), ("(", ")"), ("[", "]"), ("\\boxed{", "}"), ("\\text{", "}"),
          ("\\textbf{", "}"), ("\\mathbf{", "}"), ("\\mathrm{", "}"))
_INTEGER = re.compile(r"(?:[0-9]{1,12}|[0-9]{1,3}(?:,[0-9]{3}){1,3})(?:\.0+)?", re.ASCII)


def boxed_contents(text: str) -> list[str]:
    """The contents of every `\\boxed{...}` with balanced braces (an unclosed box is ignored). One linear pass."""
    opens = [m.end() - 1 for m in _BOXED.finditer(text)]
    if not opens:
        return []
    closes: dict[int, int] = {}
    stack: list[int] = []
    for m in _BRACE.finditer(text):
        if m.group() == "{":
            stack.append(m.start())
        elif stack:
            closes[stack.pop()] = m.start()
    return [text[i + 1:closes[i]] for i in opens if i in closes]


def marked_rests(text: str) -> list[str]:
    """For each line that names its answer ("Answer: 33", "so the answer is C."), what follows the last marker."""
    rests = []
    for line in text.splitlines():
        if "answer" not in line.lower():
            continue
        ends = [m.end() for m in _MARKER.finditer(line)]
        if ends and ends[-1] < len(line):
            rests.append(line[ends[-1]:])
    return rests


def peel(text: str) -> str:
    """`text` without the harmless wrappers a final answer often carries."""
    s = text.strip()
    for _ in range(_MAX_PEEL):
        before = s
        s = _LEAD_PHRASE.sub("", s, count=1).strip(" \t\r\n*").rstrip(".").strip()
        for left, right in _PAIRS:
            if len(s) > len(left) + len(right) - 1 and s.startswith(left) and s.endswith(right):
                s = s[len(left):len(s) - len(right)].strip()
                break
        if s == before:
            break
    return s


def resolve(text: object, bare: Callable[[str], str | None]) -> str | None:
    """The single answer `bare` reads from `text` (see the module docstring), or None."""
    if not isinstance(text, str) or len(text) > MAX_CHARS:
        return None
    marked = boxed_contents(text) + marked_rests(text)
    values = {v for v in map(bare, marked) if v is not None}
    if values:
        return values.pop() if len(values) == 1 else None
    return bare(text)


def bare_integer(text: str, low: int, high: int) -> str | None:
    """The canonical decimal of a bare integer in [low, high] ("033" -> "33", "1,234" -> "1234"), else None."""
    s = peel(text)
    if not _INTEGER.fullmatch(s):
        return None
    value = int(s.split(".")[0].replace(",", ""))
    return str(value) if low <= value <= high else None


def parse_integer(text: object, low: int = 0, high: int = 999) -> str | None:
    """The integer answer of a prediction, canonical ("33"), or None when it is not exactly one in range."""
    if isinstance(text, str) and 0 < len(text) <= 12 and text.isascii() and text.isdigit():  # the common case
        value = int(text)
        return str(value) if low <= value <= high else None
    return resolve(text, lambda s: bare_integer(s, low, high))


_LETTER_FORMS = (
    re.compile(r"([A-Za-z])", re.ASCII),
    re.compile(r"([A-Z])\s*[).:]", re.ASCII),
    re.compile(r"\(([A-Z])\)", re.ASCII),
)
_LETTER_WITH_TEXT = re.compile(r"\(?([A-Z])[).:]\s+(.+)", re.ASCII | re.DOTALL)


def bare_letter(text: str, choices: dict[str, str]) -> str | None:
    """The letter of a bare choice ("C", "(C)", "C)", "option C", "C) <that choice's text>") if valid, else None."""
    s = peel(text)
    for form in _LETTER_FORMS:
        m = form.fullmatch(s)
        if m:
            letter = m.group(1).upper()
            return letter if letter in choices else None
    m = _LETTER_WITH_TEXT.fullmatch(s)
    if m and m.group(1) in choices and _squash(m.group(2)) == _squash(choices[m.group(1)]):
        return m.group(1)
    return None


def parse_choice(text: object, choices: dict[str, str]) -> str | None:
    """The single valid letter a prediction names, or None (out of range, several letters, prose, junk)."""
    return resolve(text, lambda s: bare_letter(s, choices))


_CHOICE_PREFIX = re.compile(r"\s*\(?([A-Za-z])\s*[).:]\s*(.*)", re.DOTALL)


def choice_map(choices: list[str] | None) -> dict[str, str]:
    """{letter: text} of "A) text" choices; a choice without a letter prefix takes its position's letter."""
    result: dict[str, str] = {}
    for i, choice in enumerate(choices or []):
        m = _CHOICE_PREFIX.match(choice) if isinstance(choice, str) else None
        if m:
            result[m.group(1).upper()] = m.group(2)
        elif i < 26:
            result[chr(ord("A") + i)] = choice if isinstance(choice, str) else ""
    return result


def _squash(text: str) -> str:
    return " ".join(text.split()).rstrip(".").casefold()
