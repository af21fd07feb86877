"""`aime`: competition mathematics with integer answers 0-999 (dev AIME 2022-2023, test AIME 2024-2025).

Data rows: `{"id", "question", "answer", "url"?, "solution"?, "problem_number"?}`. `answer` is the integer as a
string, leading zeros allowed ("033"). `url` (an AoPS wiki link ending in `Problem_N`) or `problem_number` tells the
problem's position in its contest, which sets its difficulty for the `sim` task model.
"""

from __future__ import annotations

import re

from mac.config import Budget, Quota
from mac.domains.answers import bare_integer, parse_integer
from mac.domains.base import Domain, InstructionContext, register
from mac.domains.common import explicit_difficulty, record_field, stable_unit
from mac.domains.instruction import build_instruction
from mac.domains.scorecheck import ScoreCheck
from mac.errors import DataError
from mac.records import Record, SimItem
from mac.sdk.types import Problem

LOW, HIGH = 0, 999
_PROBLEM_IN_URL = re.compile(r"Problem_(\d{1,2})\b")
EXAMPLE_EXTRACT = r'''    boxed = re.findall(r"\\boxed\{(\d+)\}", reply)
    return boxed[-1] if boxed else ""'''
_NUMBER = re.compile(r"(?<![\d.])\d{1,3}(?![\d.])")


@register
class AIME(Domain):
    name = "aime"
    title = "AIME"
    description = "Competition mathematics, integer answers 0-999 (dev AIME 2022-2023, test AIME 2024-2025)."
    answer_format = "integer"
    score_check = ScoreCheck(strong_baseline=50.0, margin=30.0, min_calls=0.5, min_output_tokens=100.0)
    """80% or more on under one call for every two problems, or under 100 output tokens a problem (olympiad
    answers need worked reasoning)."""

    def default_budget(self) -> Budget:
        return Budget(
            dev_time_sec=12 * 3600,
            dev_quota=Quota(requests=50_000, output_tokens=100_000_000, concurrent=32),
            eval_timeout_sec=1800,
            verify_timeout_sec=1800,
            verify_quota=Quota(requests=10_000, output_tokens=20_000_000, concurrent=32),
        )

    def check_record(self, record: Record, file: str, line: int) -> None:
        if bare_integer(record.answer or "", LOW, HIGH) is None:
            raise DataError(f"answer {(record.answer or '')[:40]!r} is not an integer from {LOW} to {HIGH}",
                            file=file, line=line, field="answer")

    def normalize(self, pred: str, problem: Problem) -> str | None:
        return parse_integer(pred, LOW, HIGH)

    def instruction(self, ctx: InstructionContext) -> str:
        return build_instruction(
            self.name, "AIME mathematics", ctx, mac_base="BaseAIMEAgent",
            problem_fields="`question` is the problem statement (LaTeX in `$...$`); `choices` is None.",
            example_prompt='p.question + "\\n\\nPut the final answer (an integer 0-999) in \\\\boxed{}."',
            example_extract=EXAMPLE_EXTRACT)

    def sim_item(self, idx: int, record: Record) -> SimItem:
        answer = bare_integer(record.answer or "", LOW, HIGH) or record.answer or ""
        return SimItem(
            question=self.problem(idx, record).question,
            answer=answer,
            difficulty=self.difficulty(record),
            distractors=integer_distractors(int(answer), record.question),
            answer_format="integer",
        )

    def difficulty(self, record: Record) -> float:
        """From the problem's position in its contest (AIME problems get harder from 1 to 15), else a stable hash."""
        explicit = explicit_difficulty(record)
        if explicit is not None:
            return explicit
        number = problem_number(record)
        if number is not None:
            return round(0.2 + 0.75 * (number - 1) / 14, 3)
        return round(0.35 + 0.5 * stable_unit("aime", record.question), 3)


def problem_number(record: Record) -> int | None:
    """1-15 from a `problem_number` field or an AoPS url, else None."""
    value = record_field(record, "problem_number")
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 15:
        return value
    url = record_field(record, "url")
    m = _PROBLEM_IN_URL.search(url) if isinstance(url, str) else None
    return int(m.group(1)) if m and 1 <= int(m.group(1)) <= 15 else None


def integer_distractors(answer: int, question: str, low: int = LOW, high: int = HIGH, k: int = 4) -> list[str]:
    """Plausible wrong answers: off by one, a number echoed from the question, a doubled or halved answer."""
    echoed = [int(n) for n in _NUMBER.findall(question[:5000])]
    candidates = [answer + 1, answer - 1, *echoed[-2:], 2 * answer, answer // 2, int(str(answer)[::-1]), answer + 10]
    out: list[str] = []
    for value in candidates:
        if low <= value <= high and value != answer and str(value) not in out:
            out.append(str(value))
    return out[:k]
