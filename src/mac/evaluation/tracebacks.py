"""The artifact's traceback as people read it: its own last frames (file:line), the exception, no secrets.

The in-sandbox runner (mac.sdk.run) reports the raw traceback of whatever `solve` (or the import) raised. It
is untrusted text: here it is cut to the last frames that belong to the artifact (the runner's own frames and
the import machinery's are dropped), capped, and scrubbed of anything that looks like a credential (the run's
gateway token, API keys, bearer headers), since an artifact may well have put its key into an error message.
"""

from __future__ import annotations

import re

MAX_FRAMES = 8
MAX_LINE_CHARS = 300
MAX_CHARS = 6000
HEADER = "Traceback (most recent call last):"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters (terminal escapes included) that an artifact could plant in its own traceback."""
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]*)", line \d+')
_HIDDEN_FILES = ("/mac/sdk/run.py", "<frozen ")
"""Frames that are the runner's or Python's import machinery's, not the artifact's."""
_SECRET_PATTERNS = (
    re.compile(r"\bmac-[A-Za-z0-9_-]{20,}"),                  # gateway tokens
    re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"),                   # OpenAI-style and Anthropic keys
    re.compile(r"\bAIza[A-Za-z0-9_-]{20,}"),                  # Google API keys
    re.compile(r"\bhf_[A-Za-z0-9]{20,}"),                     # Hugging Face tokens
    re.compile(r"(?i)\b(bearer|authorization:?|api[_-]?key[=:]\s*)\s*['\"]?[A-Za-z0-9._~+/=-]{12,}"),
)
_MIN_SECRET_CHARS = 8


def scrub_secrets(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """`text` with each of `secrets` and anything shaped like a key or token replaced by "***"."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET_CHARS:
            text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) + " ***") if m.lastindex else "***", text)
    return text


def artifact_traceback(raw: str | None, secrets: list[str] | tuple[str, ...] = ()) -> str | None:
    """The last MAX_FRAMES frames of the artifact's last traceback and its exception, scrubbed; None if none."""
    if not raw or not raw.strip():
        return None
    lines = [_CONTROL.sub("", line)[:MAX_LINE_CHARS] for line in raw.replace("\r", "").splitlines()]
    start = max((i for i, line in enumerate(lines) if line.startswith(HEADER)), default=-1) + 1
    frames, tail = _split_frames(lines[start:])
    shown = [f for f in frames if not _hidden(f[0])]
    dropped = len(shown) - MAX_FRAMES
    kept = shown[-MAX_FRAMES:]
    out = [HEADER] + ([f"  ... {dropped} earlier frame(s) not shown"] if dropped > 0 else [])
    out += [line for frame in kept for line in frame] + tail
    text = "\n".join(out)
    if len(text) > MAX_CHARS:
        text = "...\n" + text[-MAX_CHARS:]
    return scrub_secrets(text, secrets)


def _split_frames(lines: list[str]) -> tuple[list[list[str]], list[str]]:
    """(frames, what follows them): a frame is its `File "...", line N` line and the indented lines under it."""
    frames: list[list[str]] = []
    tail: list[str] = []
    for line in lines:
        if _FRAME.match(line) and not tail:
            frames.append([line])
        elif frames and not tail and line.startswith("    "):
            frames[-1].append(line)
        else:
            tail.append(line)
    return frames, tail


def _hidden(frame_line: str) -> bool:
    match = _FRAME.match(frame_line)
    file = match.group("file") if match else ""
    return any(hidden in file for hidden in _HIDDEN_FILES)
