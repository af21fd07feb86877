"""The sim's answer formats as strategies: built-in ones, a domain's own, and the "code" format behind the gateway."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from mac.config import Quota
from mac.errors import ConfigError
from mac.gateway import SimConfig
from mac.gateway.sim_formats import FORMATS, AnswerFormat, format_for, register_format
from mac.records import SimItem

from gwkit import chat, run, sim_gateway, user

FENCED = re.compile(r"```python\n(.*?)\n```", re.S)
REFERENCE = "n = int(input())\nprint(n * (n + 1) // 2)\n"
WRONG = ["n = int(input())\nprint(n * (n - 1) // 2)\n", "print(int(input()))\n"]
STATEMENT = "Triangular numbers. Given n on one line, print the sum 1 + 2 + ... + n."


def test_unknown_format_names_the_known_ones_and_how_to_add_one() -> None:
    with pytest.raises(ConfigError, match="known: choice, code, integer.*register_format"):
        format_for("haiku")


def test_a_domain_registers_its_own_format() -> None:
    class Shouting(AnswerFormat):
        name = "shouting-test"

        def asks_for_format(self, prompt):
            return "SHOUT" in prompt

        def final_line(self, answer, well_formed, rng):
            return answer.upper() if well_formed else answer

        def stray(self, item, rng):
            return "WRONG"

    try:
        register_format(Shouting)
        fmt = format_for("shouting-test")
        assert fmt.final_line("yes", True, random.Random(0)) == "YES" and fmt.asks_for_format("SHOUT it")
        assert fmt.distractors(SimItem(question="q", answer="a"), random.Random(0)) == []
    finally:
        FORMATS.pop("shouting-test", None)


def test_integer_and_choice_formats_keep_their_voice() -> None:
    rng = random.Random(1)
    integer, choice = format_for("integer"), format_for("choice")
    assert integer.final_line("33", True, rng).endswith("\\boxed{33}.") and integer.asks_for_format("in \\boxed{}")
    assert "\\boxed" not in integer.final_line("33", False, rng)
    assert choice.final_line("C", True, rng) == "Answer: C" and choice.asks_for_format("End with Answer: X")
    assert sorted(choice.distractors(SimItem(question="q", answer="B", answer_format="choice"), rng)) == ["A", "C", "D"]


def test_code_format_fences_well_formed_programs_and_hides_malformed_ones() -> None:
    code = format_for("code")
    rng = random.Random(0)
    assert FENCED.search(code.final_line(REFERENCE, True, rng)).group(1) + "\n" == REFERENCE
    malformed = [code.final_line(REFERENCE, False, rng) for _ in range(40)]
    unfenced = [m for m in malformed if "```" not in m]
    two_blocks = [m for m in malformed if m.count("```") == 4]
    assert unfenced and two_blocks and len(unfenced) + len(two_blocks) == 40
    assert all(REFERENCE.strip() in m for m in malformed)
    assert code.asks_for_format("Enclose your code within delimiters") and code.asks_for_format("a ```python block")
    assert not code.asks_for_format("Write a program.")
    item = SimItem(question="q", answer=REFERENCE, answer_format="code", distractors=WRONG)
    assert code.stray(item, rng) == WRONG[-1]


def test_the_sim_answers_code_items_with_the_reference_or_a_wrong_variant() -> None:
    """Sampling at a temperature gives several distinct programs; an easy item's plurality is the reference."""
    item = SimItem(question=STATEMENT, answer=REFERENCE, difficulty=0.2, distractors=WRONG, answer_format="code")

    async def main() -> Counter:
        async with sim_gateway([item], SimConfig(format_error_rate_when_asked=0.0)) as gw:
            token = gw.grant("dev", Quota()).token
            import aiohttp

            async with aiohttp.ClientSession() as s:
                prompt = STATEMENT + "\n\nReturn the program in a ```python code block."
                status, body = await chat(s, gw.tcp_url, token, user(prompt, temperature=0.8, n=40))
            assert status == 200
            return Counter(FENCED.search(c["message"]["content"]).group(1) + "\n" for c in body["choices"])

    programs = run(main())
    assert set(programs) <= {REFERENCE, *WRONG} and len(programs) >= 2
    assert programs.most_common(1)[0][0] == REFERENCE
