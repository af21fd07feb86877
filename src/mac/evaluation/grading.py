"""Reading an artifact's untrusted output and grading it in the controller.

The result file was written inside the sandbox by code that shares the artifact's process, so everything in it
is hostile until checked: it is opened without following symlinks, read up to a size cap, parsed as JSON with
nesting and number limits caught, and every prediction's types are checked. Problems with the output become
explanations in the result (an invalid prediction is wrong, an unknown idx is listed), never exceptions.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mac.domains.base import Domain, Grade
from mac.records import Record

MAX_RESULT_BYTES = 32 << 20
"""A larger result file is not read at all (an honest one holds short answers)."""
MAX_PRED_CHARS = 2000
"""Longest prediction text kept in detailed results and predictions_content."""
MAX_CONTENT_CHARS = 1 << 20
MAX_INVALID_LISTED = 200


@dataclass
class ArtifactOutput:
    """What the in-sandbox runner reported, validated. `unreadable` says why there is nothing to grade."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    partial: bool = False
    timed_out: bool = False
    error: str | None = None
    traceback: str | None = None
    unreadable: str | None = None


@dataclass
class Graded:
    grades: list[Grade]
    missing: list[int]
    invalid: list[dict[str, Any]]
    wrong_types: dict[str, dict[str, int]] = field(default_factory=dict)
    """What had the wrong type, by kind ("item", "idx", "pred"), as {type name: count}."""

    @property
    def correct(self) -> int:
        return sum(g.correct for g in self.grades)

    def type_problem(self) -> str | None:
        """One sentence per kind of wrongly typed output, naming the fix; None when every type was right."""
        fixes = {"item": ("solve returned {what} instead of Prediction objects",
                          "return [Prediction(idx=p.idx, pred=str(answer)), ...]"),
                 "idx": ("Prediction.idx was {what}", "use the problem's own int idx (p.idx)"),
                 "pred": ("Prediction.pred was {what}", "answers must be strings: pred=str(answer)")}
        parts = []
        for kind, (problem, fix) in fixes.items():
            found = self.wrong_types.get(kind)
            if found:
                what = ", ".join(f"{n} x {name}" for name, n in sorted(found.items(), key=lambda kv: -kv[1])[:3])
                parts.append(problem.format(what=what) + ": " + fix)
        return "; ".join(parts) or None


def read_output(path: Path, max_bytes: int = MAX_RESULT_BYTES) -> ArtifactOutput:
    """Parse the runner's result file; never raises on anything the artifact could have written."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return ArtifactOutput(unreadable="no result file")
    except OSError as exc:
        return ArtifactOutput(unreadable=f"result file cannot be opened ({exc.strerror}); it must be a plain file")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            return ArtifactOutput(unreadable="result file is not a plain file")
        if st.st_size > max_bytes:
            return ArtifactOutput(unreadable=f"result file is {st.st_size} bytes, over the {max_bytes} byte cap")
        raw = os.read(fd, max_bytes + 1)
    finally:
        os.close(fd)
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        return ArtifactOutput(unreadable=f"result file is not valid JSON ({type(exc).__name__})")
    return _validate(payload)


def _validate(payload: Any) -> ArtifactOutput:
    if not isinstance(payload, dict) or not isinstance(payload.get("predictions"), list):
        return ArtifactOutput(unreadable="result file has no 'predictions' list")
    entries = [e if isinstance(e, dict) else {"idx": None, "pred": None, "pred_type": type(e).__name__}
               for e in payload["predictions"]]
    return ArtifactOutput(
        entries=entries,
        partial=payload.get("partial") is True,
        timed_out=payload.get("timed_out") is True,
        error=_short_text(payload.get("error"), 2000),
        traceback=_short_text(payload.get("traceback"), 8000),
    )


def _short_text(value: Any, limit: int) -> str | None:
    return value[-limit:] if isinstance(value, str) and value else None


def grade_output(domain: Domain, records: list[Record], output: ArtifactOutput) -> Graded:
    """One Grade per record asked (idx = position); invalid and unknown entries explained, never raised."""
    by_idx: dict[int, list[dict[str, Any]]] = {}
    invalid: list[dict[str, Any]] = []
    wrong: dict[str, dict[str, int]] = {}
    for entry in output.entries:
        idx = entry.get("idx")
        item_type = _type_name(entry.get("item_type"))
        if item_type is not None:
            _count(wrong, "item", item_type)
            _note(invalid, entry, f"a {item_type} is not a Prediction(idx, pred)")
        elif type(idx) is not int:
            _count(wrong, "idx", _type_name(entry.get("idx_type")) or "not an int")
            _note(invalid, entry, f"idx {_show(idx)} is not an integer")
        elif not 0 <= idx < len(records):
            _note(invalid, entry, f"unknown idx {idx}: the problems asked are 0..{len(records) - 1}")
        else:
            by_idx.setdefault(idx, []).append(entry)
    grades, missing = [], []
    for idx, record in enumerate(records):
        found = by_idx.get(idx, [])
        if not found:
            missing.append(idx)
        grades.append(_grade_one(domain, idx, record, found))
        pred_type = _type_name(found[0].get("pred_type")) if len(found) == 1 else None
        if pred_type is not None and not isinstance(found[0].get("pred"), str):
            _count(wrong, "pred", pred_type)
    return Graded(grades=grades, missing=missing, invalid=invalid, wrong_types=wrong)


def _type_name(value: Any) -> str | None:
    return value[:100] if isinstance(value, str) and value else None


def _count(wrong: dict[str, dict[str, int]], kind: str, name: str) -> None:
    found = wrong.setdefault(kind, {})
    found[name] = found.get(name, 0) + 1


def _grade_one(domain: Domain, idx: int, record: Record, found: list[dict[str, Any]]) -> Grade:
    if not found:
        return Grade(idx=idx, correct=False, pred=None, normalized=None, explanation="missing prediction")
    if len(found) > 1:
        return Grade(idx=idx, correct=False, pred=_pred_text(found[0].get("pred")), normalized=None,
                     explanation=f"{len(found)} predictions for idx {idx}: exactly one is allowed, so none counts")
    pred = found[0].get("pred")
    if not isinstance(pred, str):
        kind = found[0].get("pred_type") if pred is None else type(pred).__name__
        why = f"prediction is {kind}, not str (Prediction.pred must be a string)" if isinstance(kind, str) \
            else "missing prediction"
        return Grade(idx=idx, correct=False, pred=None, normalized=None, explanation=why[:200])
    try:
        grade = domain.grade(idx, pred, record)
    except Exception as exc:  # noqa: BLE001 - a grader bug must not crash the evaluation
        return Grade(idx=idx, correct=False, pred=_pred_text(pred), normalized=None,
                     explanation=f"grader error ({type(exc).__name__}); counted as wrong")
    return grade.model_copy(update={"pred": _pred_text(grade.pred)})


def _note(invalid: list[dict[str, Any]], entry: dict[str, Any], why: str) -> None:
    if len(invalid) < MAX_INVALID_LISTED:
        invalid.append({"idx": _show(entry.get("idx")), "pred": _pred_text(entry.get("pred")), "explanation": why})


def _show(value: Any) -> str:
    return repr(value)[:100]


def _pred_text(pred: Any) -> str | None:
    return pred[:MAX_PRED_CHARS] if isinstance(pred, str) else None


def predictions_content(output: ArtifactOutput) -> str:
    """The predictions as JSON text (what the artifact returned), long answers and the whole text capped."""
    items = [{"idx": e.get("idx") if type(e.get("idx")) is int else _show(e.get("idx")),
              "pred": _pred_text(e.get("pred"))} for e in output.entries]
    text = json.dumps(items, ensure_ascii=False)
    if len(text) > MAX_CONTENT_CHARS:
        text = text[:MAX_CONTENT_CHARS] + f"... [truncated: {len(text)} chars]"
    return text
