"""`lcb`: LiveCodeBench code generation, judged by running each program in a jail (sandbox X, `mac.judge`).

Data (see `mac.domains.lcb_data` for the row format): `mac data pull lcb` builds dev/test from the hub's
`livecodebench/code_generation_lite` with MAC's split; `mac data import lcb` takes our rows, LiveCodeBench's or
MAC's `lcb_*_full.jsonl`. Without either, the 24 problems shipped in `lcb_fixtures/` (written for MAC, with
reference solutions and typical wrong variants) make the domain work offline; results on them say so.

The artifact answers problem `question_id` (a string idx, as in MAC) with one Python program. Grading (`RunTests`,
mac.domains.lcb_grading) runs it on the public and private tests in a fresh sandbox per problem and compares the
outputs in the controller; a problem counts when every test passes (pass@1).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mac.config import Budget, Quota
from mac.domains.base import SPLITS, Domain, InstructionContext, register
from mac.domains.common import explicit_difficulty, record_field, stable_unit
from mac.domains.instruction import build_instruction
from mac.domains.lcb_data import SHOWN_FIELDS, fixture_rows, row_from_lcb, split_of, tests_from
from mac.domains.lcb_grading import RunTests
from mac.domains.testseed import SeedFile
from mac.errors import ConfigError, DataError
from mac.records import Record, SimItem
from mac.sdk.types import Problem

log = logging.getLogger("mac.domains")

DIFFICULTY = {"easy": 0.2, "medium": 0.45, "hard": 0.7}
"""The sim's difficulty by LiveCodeBench's label (plus a small stable jitter)."""
EXAMPLE_EXTRACT = r'''    blocks = re.findall(r"```(?:python)?\n(.*?)```", reply, re.S)
    return blocks[-1] if blocks else reply'''
EXAMPLE_PROMPT = ('p.question + ("\\n\\nComplete this starter code:\\n" + p.starter_code if p.starter_code else '
                  '"\\n\\nRead the input from stdin and write the answer to stdout.") + '
                  '"\\n\\nReturn the whole program in one ```python code block."')
PLATFORMS = ("leetcode", "codeforces", "atcoder")


@register
class LCB(Domain):
    name = "lcb"
    title = "LiveCodeBench"
    description = ("LiveCodeBench code generation (Python), judged in a sandbox: dev = outside, test = inside "
                   "MAC's 2024-08..2025-01 window; 24 built-in fixture problems offline.")
    answer_format = "code"
    grading = RunTests()
    builtin_data = "built-in fixtures"

    def default_budget(self) -> Budget:
        """MAC's: 12 h of development; dev evaluations and the verification may take up to 12 h each."""
        return Budget(
            dev_time_sec=12 * 3600,
            dev_quota=Quota(requests=100_000, output_tokens=300_000_000, concurrent=32),
            eval_timeout_sec=12 * 3600,
            verify_timeout_sec=12 * 3600,
            verify_quota=Quota(requests=20_000, output_tokens=60_000_000, concurrent=32),
        )

    # -- data -----------------------------------------------------------------
    def load(self, split: str, data: Path | None = None, *, seed: SeedFile | None = None) -> list[Record]:
        """The split from `data`, else the user data dir, else the built-in fixtures (logged). `seed` is for
        generated splits: lcb has none."""
        if split not in SPLITS:
            raise ConfigError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
        folder = self.data_folder(data)
        if folder is None:
            log.info("lcb: no LiveCodeBench data installed; using the %d built-in fixture problems "
                     "(`mac data pull lcb` fetches LiveCodeBench)", sum(len(v) for v in fixture_rows().values()))
            return self.validate_records(list(enumerate(fixture_rows()[split], 1)), f"lcb fixtures ({split})")
        records = super().load(split, folder)
        for record in records:
            rel = record_field(record, "private_tests_file")
            if isinstance(rel, str):
                record.private_tests_path = str(_inside(folder, rel))  # type: ignore[attr-defined]  # trusted side (not `extra`)
        return records

    def data_folder(self, data: Path | None) -> Path | None:
        """`data`, or the user data dir's lcb folder; None when neither exists (the fixtures are used)."""
        if data is not None:
            return self.data_dir(data)
        from mac.paths import data_home

        folder = data_home() / self.name
        return folder if folder.is_dir() else None

    def validate_records(self, rows: list[tuple[int, dict[str, Any]]], file: str) -> list[Record]:
        converted = []
        for line, row in rows:
            try:
                converted.append((line, record_row(row_from_lcb(row))))
            except DataError as exc:
                raise DataError(str(exc), file=file, line=line) from None
        return super().validate_records(converted, file)

    def check_record(self, record: Record, file: str, line: int) -> None:
        if record.extra.get("platform") not in PLATFORMS:
            raise DataError(f"platform must be one of {', '.join(PLATFORMS)}", file=file, line=line, field="platform")
        private, tests_file = record_field(record, "private_tests"), record_field(record, "private_tests_file")
        if private is None and not isinstance(tests_file, str):
            raise DataError("needs private_tests (or private_tests_file)", file=file, line=line, field="private_tests")
        if not private and tests_file is None and not record.extra["public_test_cases"]:
            raise DataError("a problem needs at least one test", file=file, line=line, field="private_tests")

    def problem_idx(self, position: int, record: Record) -> str:
        return record.id

    def problem(self, idx: int, record: Record) -> Problem:
        return Problem(idx=record.id, question=record.question, extra=dict(record.extra))

    # -- grading (RunTests does it; normalize is only what a short-answer reader would see) ---------------------
    def normalize(self, pred: str, problem: Problem) -> str | None:
        return pred if pred.strip() else None

    # -- meta-agent facing ----------------------------------------------------
    def instruction(self, ctx: InstructionContext) -> str:
        return build_instruction(
            self.name, "LiveCodeBench code generation", ctx, mac_base="BaseLCBAgent",
            problem_fields="`idx` is the problem id (a string such as `\"abc344_d\"`; answer with exactly it); "
                           "`question` is the statement; `extra` (also attributes: `p.starter_code`) holds MAC's "
                           "fields `question_title`, `question_content`, `starter_code`, `platform`, `difficulty`, "
                           "`contest_date`, `question_id`, `contest_id`, `fn_name`, plus `public_test_cases`.",
            example_prompt=EXAMPLE_PROMPT, example_extract=EXAMPLE_EXTRACT)

    # -- sim ------------------------------------------------------------------
    def sim_item(self, idx: int, record: Record) -> SimItem:
        """The reference (or, without one, a valid but wrong program) and the wrong variants, most likely first."""
        reference = record_field(record, "reference")
        wrong = [w["code"] for w in record_field(record, "wrong") or [] if isinstance(w, dict)]
        generic = wrong_program(record.extra.get("starter_code") or "", record.extra.get("fn_name"))
        if not isinstance(reference, str) or not reference.strip():
            return SimItem(question=record.question, answer=generic, difficulty=self.difficulty(record),
                           answer_format="code")
        return SimItem(question=record.question, answer=reference, difficulty=self.difficulty(record),
                       distractors=[*wrong, generic], answer_format="code")

    def difficulty(self, record: Record) -> float:
        explicit = explicit_difficulty(record)
        if explicit is not None:
            return explicit
        base = DIFFICULTY.get(str(record.extra.get("difficulty")).lower(), 0.5)
        return round(base + 0.1 * (stable_unit("lcb", record.id) - 0.5), 3)


def record_row(row: dict[str, Any]) -> dict[str, Any]:
    """Our file row -> a Record row: MAC's fields and the public tests in `extra`, the rest trusted-side."""
    shown = {k: row.get(k) for k in SHOWN_FIELDS if k not in ("question_content", "question_id")}
    for key in ("question_title", "starter_code", "platform", "difficulty", "contest_date", "contest_id"):
        shown[key] = "" if shown.get(key) is None else str(shown[key])
    if row.get("contest_date"):
        split_of(row["contest_date"])  # a date that does not parse is a data error now, not at split time
    public = tests_from(row.get("public_tests") or [])
    shown |= {"question_content": row.get("question"), "question_id": row.get("id"), "fn_name": row.get("fn_name") or None,
              "public_test_cases": public}
    out = {"id": row.get("id"), "question": row.get("question"), "extra": shown}
    if row.get("private_tests") is not None:
        out["private_tests"] = tests_from(row["private_tests"])
    for key in ("private_tests_file", "reference", "wrong"):
        if row.get(key) is not None:
            out[key] = row[key]
    return out


def wrong_program(starter_code: str, fn_name: str | None) -> str:
    """A valid program that solves nothing: what the sim answers for a problem it has no reference for."""
    if fn_name:
        lines = starter_code.rstrip().splitlines()
        defs = [line for line in lines if line.lstrip().startswith("def ")]
        if defs and lines[-1] is defs[-1]:
            indent = len(defs[-1]) - len(defs[-1].lstrip()) + 4
            return "\n".join(lines) + "\n" + " " * indent + "return None\n"
        return f"class Solution:\n    def {fn_name}(self, *args):\n        return None\n"
    return "import sys\n\nprint(len(sys.stdin.read().split()))\n"


def _inside(folder: Path, rel: str) -> Path:
    path = Path(rel)
    if path.is_absolute() or ".." in path.parts:
        raise DataError(f"private_tests_file {rel!r} must be a relative path inside the data folder", file=str(folder))
    return folder / path
