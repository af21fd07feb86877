"""`arith`: our offline domain of multi-step arithmetic word problems, generated deterministically (no download).

Without `--data`, `load` generates the splits (`DEV_SIZE` and `TEST_SIZE` problems); test never repeats a dev
question. The dev split is public (a pure function of public code). The test split is salted with the controller's
secret seed (mac.domains.testseed: per install, or pinned with `--test-seed-file`), so an artifact that carries
the generator cannot rebuild it. With `--data DIR`, rows are
`{"id", "question", "answer", "extra": {"level", "steps"}?, "distractors"?, "difficulty"?}`.
"""

from __future__ import annotations

from pathlib import Path

from mac.config import Budget, Quota
from mac.domains.aime import integer_distractors
from mac.domains.answers import bare_integer, parse_integer
from mac.domains.arithgen import generate
from mac.domains.base import SPLITS, Domain, InstructionContext, register
from mac.domains.common import explicit_difficulty, record_field
from mac.domains.instruction import build_instruction
from mac.domains.scorecheck import ScoreCheck
from mac.domains.testseed import SeedFile, seed_for
from mac.errors import ConfigError, DataError
from mac.records import Record, SimItem
from mac.sdk.types import Problem

EXAMPLE_EXTRACT = r'''    boxed = re.findall(r"\\boxed\{([\d,]+)\}", reply)
    return boxed[-1].replace(",", "") if boxed else ""'''
DEV_SIZE = 60
TEST_SIZE = 60
HIGH = 10**12
"""Largest answer the grader reads; generated answers stay far below it."""


@register
class Arith(Domain):
    name = "arith"
    title = "Arithmetic word problems"
    description = "Multi-step arithmetic word problems, generated offline (no download); integer answers."
    answer_format = "integer"
    generated = True
    """Built in: `load` generates the splits, so there is nothing to import or pull."""
    secret_test_seed = True
    score_check = ScoreCheck(strong_baseline=75.0, margin=20.0, min_calls=0.5, min_output_tokens=5.0)
    """The strong baseline scores 75% on the sim (321 calls, ~950 output tokens per problem; the naive one 47% on
    one call and ~35 tokens); capable real models do better, so only 95% or more on under one call for every two
    problems (or almost no output) is flagged."""

    def default_budget(self) -> Budget:
        return Budget(
            dev_time_sec=3600,
            dev_quota=Quota(requests=20_000, output_tokens=20_000_000, concurrent=32),
            eval_timeout_sec=300,
            verify_timeout_sec=600,
            verify_quota=Quota(requests=5_000, output_tokens=5_000_000, concurrent=32),
        )

    def load(self, split: str, data: Path | None = None, *, seed: SeedFile | None = None) -> list[Record]:
        """The given folder's split, or the generated one when `data` is None. The test split comes from `seed`
        (None: the install's own seed file, created on first use)."""
        if data is not None:
            return super().load(split, data)
        if split not in SPLITS:
            raise ConfigError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
        if split == "test" and seed is None:
            seed = seed_for(self)
        return generated_records(split, seed.value if split == "test" and seed is not None else "")

    def check_record(self, record: Record, file: str, line: int) -> None:
        if bare_integer(record.answer or "", 0, HIGH) is None:
            raise DataError(f"answer {(record.answer or '')[:40]!r} is not a non-negative integer",
                            file=file, line=line, field="answer")

    def normalize(self, pred: str, problem: Problem) -> str | None:
        return parse_integer(pred, 0, HIGH)

    def instruction(self, ctx: InstructionContext) -> str:
        return build_instruction(
            self.name, "Arithmetic word problems", ctx, mac_base="BaseAgent",
            problem_fields="`question` is the word problem; `choices` is None; `extra` has `level` (1-5) and `steps`.",
            example_prompt='p.question + "\\n\\nPut the final answer (a whole number) in \\\\boxed{}."',
            example_extract=EXAMPLE_EXTRACT)

    def sim_item(self, idx: int, record: Record) -> SimItem:
        answer = bare_integer(record.answer or "", 0, HIGH) or record.answer or ""
        given = record_field(record, "distractors")
        if isinstance(given, list) and given:
            wrong = [str(d) for d in given if str(d) != answer]
        else:
            wrong = integer_distractors(int(answer), record.question, 0, HIGH)
        return SimItem(question=self.problem(idx, record).question, answer=answer,
                       difficulty=self.difficulty(record), distractors=wrong, answer_format="integer")

    def difficulty(self, record: Record) -> float:
        """More steps and bigger numbers are harder: 2 small steps ~0.15, 6 steps with a 5-digit answer ~0.8."""
        explicit = explicit_difficulty(record)
        if explicit is not None:
            return explicit
        steps = record.extra.get("steps")
        if not isinstance(steps, int) or isinstance(steps, bool):
            steps = max(1, record.question.count(". "))  # one sentence per step, then the question
        digits = len((record.answer or "").lstrip("0") or "0")
        return round(min(0.95, max(0.05, 0.1 + 0.14 * (steps - 2) + 0.03 * digits)), 3)


def generated_records(split: str, salt: str = "") -> list[Record]:
    """The built-in split (`salt`: the test split's secret seed). Test problems avoid every dev question."""
    dev = generate("dev", DEV_SIZE)
    problems = dev if split == "dev" else generate("test", TEST_SIZE, avoid={p.question for p in dev}, salt=salt)
    return [
        Record(id=f"arith-{split}-{i:03d}", question=p.question, answer=str(p.answer),
               extra={"level": p.level, "steps": p.steps}, distractors=p.distractors)
        for i, p in enumerate(problems)
    ]
