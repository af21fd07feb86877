"""`science`: hard multiple-choice science questions (dev HLE multiple-choice, test GPQA-Diamond).

Data rows: `{"id", "question", "choices": ["A) text", "B) text", ...], "answer": "C", "source"?}` with 2 to 26
choices lettered in order. `source` ("hle", "gpqa") sets the `sim` difficulty; without it the default data's
sources are assumed (dev: HLE, test: GPQA).
"""

from __future__ import annotations

from pathlib import Path

from mac.config import Budget, Quota
from mac.domains.answers import bare_letter, choice_map, parse_choice
from mac.domains.base import Domain, InstructionContext, register
from mac.domains.common import explicit_difficulty, record_field, stable_unit
from mac.domains.instruction import build_instruction
from mac.domains.scorecheck import ScoreCheck
from mac.domains.testseed import SeedFile
from mac.errors import DataError
from mac.records import Record, SimItem
from mac.sdk.types import Problem

EXAMPLE_EXTRACT = r'''    letters = re.findall(r"Answer:\s*\(?([A-Z])\b", reply)
    return letters[-1] if letters else ""'''
DEFAULT_SOURCE = {"dev": "hle", "test": "gpqa"}
DIFFICULTY_RANGE = {"hle": (0.8, 0.9), "gpqa": (0.5, 0.7)}
"""The sim's difficulty band per source: HLE is far harder than GPQA for a given model."""
_OTHER_RANGE = (0.55, 0.8)


@register
class Science(Domain):
    name = "science"
    title = "Science (multiple choice)"
    description = "Hard multiple-choice science: dev HLE multiple-choice subset, test GPQA-Diamond."
    answer_format = "choice"
    score_check = ScoreCheck(strong_baseline=65.0, margin=20.0, min_calls=0.5, min_output_tokens=10.0)
    """85% or more on under one call for every two problems, or under 10 output tokens a problem."""

    def default_budget(self) -> Budget:
        return Budget(
            dev_time_sec=12 * 3600,
            dev_quota=Quota(requests=100_000, output_tokens=150_000_000, concurrent=32),
            eval_timeout_sec=3600,
            verify_timeout_sec=3600,
            verify_quota=Quota(requests=20_000, output_tokens=30_000_000, concurrent=32),
        )

    def load(self, split: str, data: Path | None = None, *, seed: SeedFile | None = None) -> list[Record]:
        records = super().load(split, data, seed=seed)
        for record in records:
            if record_field(record, "source") is None:
                record.source = DEFAULT_SOURCE[split]  # type: ignore[attr-defined]  # extra="allow": trusted side, not in `extra`
        return records

    def check_record(self, record: Record, file: str, line: int) -> None:
        choices = record.choices
        if not choices or not 2 <= len(choices) <= 26:
            raise DataError("needs a list of 2 to 26 choices", file=file, line=line, field="choices")
        for i, choice in enumerate(choices):
            letter = chr(ord("A") + i)
            if not choice.startswith(f"{letter}) "):
                raise DataError(f"choice {i + 1} must look like '{letter}) text', got {choice[:30]!r}",
                                file=file, line=line, field="choices")
        if bare_letter(record.answer or "", choice_map(choices)) is None:
            last = chr(ord("A") + len(choices) - 1)
            raise DataError(f"answer {(record.answer or '')[:20]!r} is not one of the letters A-{last}",
                            file=file, line=line, field="answer")

    def normalize(self, pred: str, problem: Problem) -> str | None:
        return parse_choice(pred, choice_map(problem.choices))

    def instruction(self, ctx: InstructionContext) -> str:
        return build_instruction(
            self.name, "Science multiple choice", ctx, mac_base="BaseScienceAgent",
            problem_fields='`question` is the question; `choices` lists its options as "A) text" strings.',
            example_prompt='p.question + "\\n\\n" + "\\n".join(p.choices) + "\\n\\nEnd with: Answer: <letter>"',
            example_extract=EXAMPLE_EXTRACT)

    def sim_item(self, idx: int, record: Record) -> SimItem:
        letters = list(choice_map(record.choices))
        answer = bare_letter(record.answer or "", choice_map(record.choices)) or record.answer or ""
        others = sorted((x for x in letters if x != answer), key=lambda x: stable_unit("science", record.id, x))
        return SimItem(
            question=self.problem(idx, record).question,
            answer=answer,
            difficulty=self.difficulty(record),
            distractors=others[:3],
            answer_format="choice",
        )

    def difficulty(self, record: Record) -> float:
        explicit = explicit_difficulty(record)
        if explicit is not None:
            return explicit
        low, high = DIFFICULTY_RANGE.get(str(record_field(record, "source")).lower(), _OTHER_RANGE)
        return round(low + (high - low) * stable_unit("science", record.question), 3)
