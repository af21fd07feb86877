"""Reading an artifact's untrusted output and grading it in the controller.

The result file was written inside the sandbox by code that shares the artifact's process, so everything in it
is hostile until checked: it is opened without following symlinks, read up to a size cap, parsed as JSON with
nesting and number limits caught, and every prediction's types are checked. Problems with the output become
explanations in the result (an invalid prediction is wrong, an unknown idx is listed), never exceptions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mac.domains.base import Domain
from mac.domains.grader import Grade
from mac.domains.grader import Gradable, GradingContext
from mac.errors import SandboxError
from mac.evaluation.untrusted_file import read_capped
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
    missing: list[int | str]
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
                 "idx": ("Prediction.idx was {what}", "use the problem's own idx (p.idx), type included"),
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
    raw, why = read_capped(path, max_bytes)
    if raw is None:
        return ArtifactOutput(unreadable=why)
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


async def grade_output(domain: Domain, records: list[Record], output: ArtifactOutput,
                       ctx: GradingContext | None = None) -> Graded:
    """One Grade per record asked, through the domain's grading strategy; invalid and unknown entries explained,
    never raised. A prediction must use its problem's idx exactly (`Domain.problem_idx`: the position, or MAC's
    string id for LCB), type included."""
    ctx = ctx or GradingContext()
    expected = [domain.problem_idx(i, r) for i, r in enumerate(records)]
    position = {idx: i for i, idx in enumerate(expected)}
    kind = type(expected[0]) if expected else int
    echo = domain.grading.echo_predictions
    by_pos: dict[int, list[dict[str, Any]]] = {}
    invalid: list[dict[str, Any]] = []
    wrong: dict[str, dict[str, int]] = {}
    for entry in output.entries:
        idx = entry.get("idx")
        item_type = _type_name(entry.get("item_type"))
        if item_type is not None:
            _count(wrong, "item", item_type)
            _note(invalid, entry, f"a {item_type} is not a Prediction(idx, pred)", echo)
        elif type(idx) is not kind:
            _count(wrong, "idx", _type_name(entry.get("idx_type")) or type(idx).__name__)
            _note(invalid, entry, f"idx {_show_idx(entry)} is not {_KIND_NAMES.get(kind, kind.__name__)}", echo)
        elif idx not in position:
            _note(invalid, entry, f"unknown idx {_show(idx)}: the problems asked are {_asked(expected)}", echo)
        else:
            by_pos.setdefault(position[idx], []).append(entry)
    grades: list[Grade | None] = []
    todo: list[tuple[int, Gradable]] = []
    for i, (idx, record) in enumerate(zip(expected, records)):
        found = by_pos.get(i, [])
        grade = _check_one(idx, found, echo)
        grades.append(grade)
        if grade is None:
            todo.append((i, Gradable(idx=idx, pred=found[0]["pred"], record=record)))
        pred_type = _type_name(found[0].get("pred_type")) if len(found) == 1 else None
        if pred_type is not None and not isinstance(found[0].get("pred"), str):
            _count(wrong, "pred", pred_type)
    for i, grade in zip([i for i, _ in todo], await _run_strategy(domain, [g for _, g in todo], ctx)):
        grades[i] = grade if echo else grade.model_copy(update={"pred": None})
    missing = [expected[i] for i in range(len(records)) if i not in by_pos]
    return Graded(grades=[g for g in grades if g is not None], missing=missing, invalid=invalid, wrong_types=wrong)


def _type_name(value: Any) -> str | None:
    return value[:100] if isinstance(value, str) and value else None


def _count(wrong: dict[str, dict[str, int]], kind: str, name: str) -> None:
    found = wrong.setdefault(kind, {})
    found[name] = found.get(name, 0) + 1


_KIND_NAMES = {int: "an integer", str: "a string"}


def _asked(expected: list[int | str]) -> str:
    if expected and isinstance(expected[0], int):
        return f"0..{len(expected) - 1}"
    shown = ", ".join(repr(x) for x in expected[:5])
    return f"{shown}{', ...' if len(expected) > 5 else ''} ({len(expected)} ids)"


def _check_one(idx: int | str, found: list[dict[str, Any]], echo: bool) -> Grade | None:
    """The grade of a problem whose prediction cannot be graded (missing, duplicated, not a string), else None."""
    if not found:
        return Grade(idx=idx, correct=False, pred=None, normalized=None, explanation="missing prediction")
    if len(found) > 1:
        return Grade(idx=idx, correct=False, pred=_pred_text(found[0].get("pred")) if echo else None,
                     normalized=None,
                     explanation=f"{len(found)} predictions for idx {_show(idx)}: exactly one is allowed, so none counts")
    pred = found[0].get("pred")
    if not isinstance(pred, str):
        kind = found[0].get("pred_type") if pred is None else type(pred).__name__
        why = f"prediction is {kind}, not str (Prediction.pred must be a string)" if isinstance(kind, str) \
            else "missing prediction"
        return Grade(idx=idx, correct=False, pred=None, normalized=None, explanation=why[:200])
    return None


async def _run_strategy(domain: Domain, items: list[Gradable], ctx: GradingContext) -> list[Grade]:
    """The domain's strategy on `items`; a grader bug makes every item wrong with a reason, never a crash."""
    if not items:
        return []
    try:
        grades = list(await domain.grading.grade(domain, items, ctx))
        if len(grades) != len(items):
            raise RuntimeError(f"{len(grades)} grades for {len(items)} predictions")
    except SandboxError:
        raise  # this machine cannot run the judge: an infrastructure failure, not the artifact's
    except Exception as exc:  # noqa: BLE001 - a grader bug must not crash the evaluation
        return [Grade(idx=item.idx, correct=False, pred=_pred_text(item.pred), normalized=None,
                      explanation=f"grader error ({type(exc).__name__}); counted as wrong") for item in items]
    return [g.model_copy(update={"pred": _pred_text(g.pred)}) for g in grades]


def _note(invalid: list[dict[str, Any]], entry: dict[str, Any], why: str, echo: bool = True) -> None:
    if len(invalid) < MAX_INVALID_LISTED:
        invalid.append({"idx": _show_idx(entry), "pred": _pred_text(entry.get("pred")) if echo else None,
                        "explanation": why})


def _show(value: Any) -> str:
    return repr(value)[:100]


def _show_idx(entry: dict[str, Any]) -> str:
    """The idx as the artifact wrote it: the runner sends an idx that is neither int nor str as its repr."""
    shown = entry.get("idx_repr")
    return shown[:100] if isinstance(shown, str) else _show(entry.get("idx"))


def _pred_text(pred: Any) -> str | None:
    return pred[:MAX_PRED_CHARS] if isinstance(pred, str) else None


def predictions_content(output: ArtifactOutput, domain: Domain | None = None) -> str:
    """The predictions as JSON text (what the artifact returned), long answers and the whole text capped; empty
    for a domain whose strategy does not echo predictions (code: MAC never returns a prediction's code)."""
    if domain is not None and not domain.grading.echo_predictions:
        return ""
    items = [{"idx": e.get("idx") if type(e.get("idx")) in (int, str) else _show_idx(e),
              "pred": _pred_text(e.get("pred"))} for e in output.entries]
    text = json.dumps(items, ensure_ascii=False)
    if len(text) > MAX_CONTENT_CHARS:
        text = text[:MAX_CONTENT_CHARS] + f"... [truncated: {len(text)} chars]"
    return text
