"""Small fixture writers for the domain tests (they never read shared data)."""

from __future__ import annotations

import json
from pathlib import Path


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def aime_row(i: int, answer: str = "33", **extra) -> dict:
    return {"id": i, "question": f"Problem {i}: find the number of lattice points with $x+y={i + 10}$.",
            "answer": answer, **extra}


def science_row(i: int, n_choices: int = 4, answer: str = "B", **extra) -> dict:
    return {"id": i, "question": f"Question {i}: which option is right?",
            "choices": [f"{chr(65 + k)}) option {k} of {i}" for k in range(n_choices)], "answer": answer, **extra}
