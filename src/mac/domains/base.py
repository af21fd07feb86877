"""The Domain contract: a task family as a small plugin.

A domain folder on disk (chosen with `--data DIR`, or the user data dir `$MAC_DATA/<domain>/`):

    <domain>/
      dev.jsonl     development split: what dev evaluations score against
      test.jsonl    held-out test split: only the verifier reads it
    each line: {"id", "question", "answer", ...domain fields such as "choices"}

A domain supplies: data loading and validation, the Problem the artifact sees, its grading strategy (`grading`,
see `mac.domains.grader`: by default answer normalisation and comparison in the controller, on plain strings,
never `eval`), the instruction for meta-agents, default budgets, baseline artifacts, and what the `sim` task model
knows about each record (`sim_item`, in the `answer_format` the sim writes replies in).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field, ValidationError

from mac.config import Budget
from mac.domains.scorecheck import ScoreCheck
from mac.domains.grader import CompareAnswers, Grade, GradingStrategy
from mac.errors import ConfigError, DataError
from mac.records import Record, SimItem
from mac.registry import Registry
from mac.sdk.types import Problem

if TYPE_CHECKING:
    from mac.domains.testseed import SeedFile

SPLITS = ("dev", "test")


class InstructionContext(BaseModel):
    """What the instruction for meta-agents may mention: budgets and endpoints of this trial."""

    budget: Budget = Field(default_factory=Budget)
    n_dev: int = 0
    task_model: str = "task-model"
    evaluation_api_url: str = "http://127.0.0.1:8001"
    simulated: bool = False


class Domain(ABC):
    """Base of every domain. Subclasses set the class attributes and implement the abstract methods."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    answer_format: ClassVar[str] = "integer"
    """How the `sim` task model states answers: a format of `mac.gateway.sim_formats` ("integer", "choice", "code")."""
    grading: ClassVar[GradingStrategy] = CompareAnswers()
    """How predictions are graded (dev evaluations and verification alike)."""
    generated: ClassVar[bool] = False
    """True when `load` builds the splits itself (no files to import or pull), as `arith` does."""
    secret_test_seed: ClassVar[bool] = False
    """True when the generated test split comes from the controller's secret seed (mac.domains.testseed)."""
    score_check: ClassVar[ScoreCheck | None] = None
    """When a test score is implausible for the model use behind it (the audit's `anomalous_score` rule)."""
    builtin_data: ClassVar[str] = ""
    """What `load` falls back to when no data is installed (lcb: "built-in fixtures"); empty: nothing."""

    def default_budget(self) -> Budget:
        """MAC's budgets for this domain (12 h development for aime and science)."""
        return Budget()

    def allowed_packages(self) -> list[str]:
        """Extra packages installed into the artifact sandbox's runtime for this domain."""
        return []

    # -- data -----------------------------------------------------------------
    def data_dir(self, data: Path | None) -> Path:
        from mac.paths import data_home

        folder = Path(data) if data is not None else data_home() / self.name
        if data is not None and not folder.is_dir():
            what = "is not a folder" if folder.exists() else "does not exist"
            raise DataError(f"the --data folder {what}: pass a folder that holds dev.jsonl and test.jsonl",
                            file=str(folder))
        if not folder.is_dir():
            raise DataError(
                f"no data for domain {self.name!r}; pass --data DIR, or run "
                f"`mac data import {self.name} --dev F --test F` or `mac data pull {self.name}`", file=str(folder))
        return folder

    def load(self, split: str, data: Path | None = None, *, seed: SeedFile | None = None) -> list[Record]:
        """The records of `split` ("dev" or "test"), validated. Raises DataError naming file, line and field.
        `seed`: the secret seed of a generated test split (`secret_test_seed` domains; others ignore it)."""
        if split not in SPLITS:
            raise ConfigError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
        path = self.data_dir(data) / f"{split}.jsonl"
        return self.validate_records(read_jsonl(path), str(path))

    def validate_records(self, rows: list[tuple[int, dict[str, Any]]], file: str) -> list[Record]:
        records = []
        for line, row in rows:
            try:
                record = Record.model_validate(normalise_row(row))
            except ValidationError as exc:
                err = exc.errors()[0]
                raise DataError(err["msg"], file=file, line=line, field=".".join(map(str, err["loc"]))) from None
            if record.answer is None and self.grading.needs_answer:
                raise DataError("missing answer", file=file, line=line, field="answer")
            self.check_record(record, file, line)
            records.append(record)
        if not records:
            raise DataError("no records", file=file)
        return records

    def check_record(self, record: Record, file: str, line: int) -> None:
        """Domain-specific validation; raise DataError(file=, line=, field=)."""

    def problem_idx(self, position: int, record: Record) -> int | str:
        """The idx the artifact answers record `position` of a split with: the position itself by default (MAC's
        LCB uses the problem's string id). Predictions must use it exactly, type included."""
        return position

    def problem(self, idx: int, record: Record) -> Problem:
        """What the artifact sees of record `idx` (its position in the split): never the answer."""
        return Problem(idx=self.problem_idx(idx, record), question=record.question, choices=record.choices,
                       extra=dict(record.extra))

    # -- grading --------------------------------------------------------------
    @abstractmethod
    def normalize(self, pred: str, problem: Problem) -> str | None:
        """The canonical answer read from `pred`, or None when it is not exactly one valid answer."""

    def grade(self, idx: int | str, pred: Any, record: Record) -> Grade:
        """Normalise-and-compare one prediction against its record (the default strategy's step). Never raises on
        any prediction value."""
        if not isinstance(pred, str):
            why = "missing prediction" if pred is None else f"prediction is {type(pred).__name__}, not str"
            return Grade(idx=idx, correct=False, pred=None, normalized=None, explanation=why)
        problem = Problem(idx=idx, question=record.question, choices=record.choices, extra=dict(record.extra))
        normalized = self.normalize(pred, problem)
        expected = self.normalize(record.answer, problem) if record.answer is not None else None
        correct = normalized is not None and normalized == expected
        why = "correct" if correct else ("unreadable answer" if normalized is None else "wrong answer")
        return Grade(idx=idx, correct=correct, pred=pred[:2000], normalized=normalized, explanation=why)

    # -- meta-agent facing ----------------------------------------------------
    @abstractmethod
    def instruction(self, ctx: InstructionContext) -> str:
        """Markdown for meta-agents: the task, the SDK, the evaluation API, budgets, rules."""

    def baseline(self, kind: str) -> Path:
        """Path of a baseline artifact folder: "naive" (one call per problem) or "strong" (human-engineered)."""
        folder = Path(__file__).parent / "baselines" / self.name / kind
        if not (folder / "agent.py").is_file():
            raise ConfigError(f"domain {self.name!r} has no {kind!r} baseline; known: naive, strong")
        return folder

    # -- sim ------------------------------------------------------------------
    @abstractmethod
    def sim_item(self, idx: int, record: Record) -> SimItem:
        """What the `sim` task model knows about this record: answer, difficulty, distractors."""


def normalise_row(row: dict[str, Any]) -> dict[str, Any]:
    """Ids may be ints in published files; answers may be ints. Everything else is kept."""
    row = dict(row)
    for key in ("id", "answer"):
        if isinstance(row.get(key), (int, float)) and not isinstance(row.get(key), bool):
            row[key] = str(row[key])
    return row


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) pairs. Raises DataError for a missing file, bad JSON or a non-object line."""
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON: {exc.msg} at column {exc.colno}", file=str(path), line=line_no) from None
            if not isinstance(obj, dict):
                raise DataError("each line must be a JSON object", file=str(path), line=line_no)
            rows.append((line_no, obj))
    return rows


def _load_builtin() -> None:
    from mac.domains import load_builtin

    load_builtin()


DOMAINS: Registry[type[Domain]] = Registry("domain", group="mac.domains", builtins=_load_builtin, base=Domain)
"""Every domain by name: the built-ins and `mac.domains` entry points of other packages."""


def register(cls: type[Domain]) -> type[Domain]:
    """Class decorator: make a domain available by name."""
    return DOMAINS.register(cls)


def get_domain(name: str) -> Domain:
    return DOMAINS.get(name)()


def domain_names() -> list[str]:
    return DOMAINS.names()
