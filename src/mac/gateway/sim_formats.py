"""How the `sim` task model states an answer, one small strategy per answer format.

A domain names its format (`Domain.answer_format`, carried by each `SimItem`); the format says how a reply
states an answer (well formed, or in a way a careless parser misses), whether a prompt asks for that format
(which makes malformed replies rarer), and what wrong answers look like when the item lists no distractors
(plus the occasional stray answer). Built in: "integer" (`\\boxed{N}`), "choice" (`Answer: X`) and "code" (a
fenced Python program). A domain with another kind of answer registers its own:

    @register_format
    class DateFormat(AnswerFormat):
        name = "date"
        ...
"""

from __future__ import annotations

import random
import re
from abc import ABC, abstractmethod
from typing import ClassVar

from mac.errors import ConfigError
from mac.records import SimItem

_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


class AnswerFormat(ABC):
    """One answer format of the sim. Every method draws only from the `rng` it is given (determinism)."""

    name: ClassVar[str]

    @abstractmethod
    def asks_for_format(self, prompt: str) -> bool:
        """Does the prompt spell this format out?"""

    @abstractmethod
    def final_line(self, answer: str, well_formed: bool, rng: random.Random) -> str:
        """The end of a reply stating `answer`; a malformed one states it so that a strict parser misses it."""

    def distractors(self, item: SimItem, rng: random.Random) -> list[str]:
        """Plausible wrong answers, made up when the item lists none (most likely first)."""
        return []

    @abstractmethod
    def stray(self, item: SimItem, rng: random.Random) -> str:
        """A wrong answer outside the distractors."""


FORMATS: dict[str, AnswerFormat] = {}


def register_format(cls: type[AnswerFormat]) -> type[AnswerFormat]:
    """Class decorator: make an answer format available by name."""
    FORMATS[cls.name] = cls()
    return cls


def format_for(name: str) -> AnswerFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ConfigError(f"the sim has no answer format {name!r}; known: {', '.join(sorted(FORMATS))} "
                          "(a domain with another format registers it with mac.gateway.sim_formats.register_format)"
                          ) from None


def number_in_words(text: str) -> str:
    """"33" -> "thirty-three" for 0..999; anything else is returned unchanged."""
    if not (text.isascii() and text.isdigit()) or int(text) > 999:
        return text
    value = int(text)
    hundreds, rest = divmod(value, 100)
    parts = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest or not parts:
        parts.append(_ONES[rest] if rest < 20 else _TENS[rest // 10] + (f"-{_ONES[rest % 10]}" if rest % 10 else ""))
    return " and ".join(parts)


@register_format
class IntegerFormat(AnswerFormat):
    """`\\boxed{N}`; malformed: the number in words, or a sentence without the box."""

    name = "integer"
    _ASKS = re.compile(r"\\boxed", re.IGNORECASE)

    def asks_for_format(self, prompt: str) -> bool:
        return self._ASKS.search(prompt) is not None

    def final_line(self, answer: str, well_formed: bool, rng: random.Random) -> str:
        if well_formed:
            return f"Therefore, the final answer is \\boxed{{{answer}}}."
        if answer.isdigit() and int(answer) <= 999 and rng.random() < 0.5:
            return f"So the answer is {number_in_words(answer)}."
        return f"So the final answer is {answer}."

    def distractors(self, item: SimItem, rng: random.Random) -> list[str]:
        if not item.answer.lstrip("-").isdigit():
            return []
        value = int(item.answer)
        return list(dict.fromkeys(str(value + d) for d in rng.sample([-2, -1, 1, 2, 10, value or 3], 3)))

    def stray(self, item: SimItem, rng: random.Random) -> str:
        stray = str(rng.randint(0, 999))
        return stray if stray != item.answer else str(int(stray) + 1)


@register_format
class ChoiceFormat(AnswerFormat):
    """`Answer: X`; malformed: the option as an ordinal in words, or "(X)" without the answer line."""

    name = "choice"
    _ASKS = re.compile(r"answer\s*:", re.IGNORECASE)

    def asks_for_format(self, prompt: str) -> bool:
        return self._ASKS.search(prompt) is not None

    def final_line(self, answer: str, well_formed: bool, rng: random.Random) -> str:
        if well_formed:
            return f"Answer: {answer}"
        letter = answer.strip().upper()
        if len(letter) == 1 and "A" <= letter <= "J" and rng.random() < 0.5:
            return f"I am fairly confident the {_ORDINALS[ord(letter) - ord('A')]} option is the right one."
        return f"I would go with option ({letter})."

    def distractors(self, item: SimItem, rng: random.Random) -> list[str]:
        pool = [x for x in "ABCD" if x != item.answer.strip().upper()]
        rng.shuffle(pool)
        return pool

    def stray(self, item: SimItem, rng: random.Random) -> str:
        return rng.choice([x for x in "ABCD" if x != item.answer.strip().upper()])


# -- code ---------------------------------------------------------------------------------------------------
# Well formed, the program is in one fenced block (```python ... ```), as prompts usually ask. Malformed, it comes
# without a fence after a line of prose (so "take the code block" finds nothing and the whole reply does not
# parse), or it is followed by a second fenced block with a usage note (so "take the last block" takes the note).
# Which program a reply carries is the sampling policy's choice (mac.gateway.sim): the item's answer (the
# reference solution) or one of its distractors (wrong variants, most likely first). A domain whose problem has
# no reference makes the answer itself a valid but wrong program and lists a generic wrong program last among
# the distractors: that is the stray answer.

GENERIC_WRONG = "import sys\n\nprint(len(sys.stdin.read().split()))\n"
"""A valid program that solves nothing: the stray answer of an item with no distractors."""
_ASKS_CODE = re.compile(r"```|code block|fenced|delimiters|markdown", re.IGNORECASE)
_PROSE = ["Here is the complete program:", "The full solution follows.", "This program implements the idea above:"]


@register_format
class CodeFormat(AnswerFormat):
    """A fenced program; malformed: unfenced after prose, or followed by a fenced usage note."""

    name = "code"

    def asks_for_format(self, prompt: str) -> bool:
        return _ASKS_CODE.search(prompt) is not None

    def final_line(self, answer: str, well_formed: bool, rng: random.Random) -> str:
        code = answer.strip("\n")
        if well_formed:
            return f"```python\n{code}\n```"
        if rng.random() < 0.5:
            return f"{rng.choice(_PROSE)}\n\n{code}\n"
        return f"```python\n{code}\n```\n\nExample usage:\n```\n$ python solution.py < input.txt\n```"

    def stray(self, item: SimItem, rng: random.Random) -> str:
        return item.distractors[-1] if item.distractors else GENERIC_WRONG
