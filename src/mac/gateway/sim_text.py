"""The `sim` task model's knowledge and voice: finding a known problem in a prompt, and writing a reply.

Pure functions and one index class; the sampling policy lives in mac.gateway.sim.
"""

from __future__ import annotations

import random
import re
from typing import Iterable

from mac.records import SimItem

PREFIX_CHARS = 32
"""Questions are indexed by the first this-many characters of their normalised text."""

_START = re.compile(r"(?<![a-z0-9 ])[^ ]|(?<= )[^ ]")
"""Where a question may start in a normalised prompt: any non-space character not glued to a preceding letter."""
_STEP_BY_STEP = re.compile(
    r"step[- ]by[- ]step|think (?:carefully|through|it through)|reason (?:carefully|through)|show (?:your|all) (?:work|reasoning|steps)|chain[- ]of[- ]thought|explain your reasoning",
    re.IGNORECASE,
)
_ASKS_BOXED = re.compile(r"\\boxed", re.IGNORECASE)
_ASKS_ANSWER_LINE = re.compile(r"answer\s*:", re.IGNORECASE)


def normalise(text: str) -> str:
    """Lower case, runs of whitespace as one space: how questions are matched inside prompts."""
    return " ".join(text.lower().split())


class ItemIndex:
    """Known problems, found inside a prompt in time linear in the prompt (not items x prompt)."""

    def __init__(self, items: Iterable[SimItem] = ()):
        self._by_prefix: dict[str, list[tuple[str, SimItem]]] = {}
        self._prefix_lengths: set[int] = set()
        self.add(items)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_prefix.values())

    def add(self, items: Iterable[SimItem]) -> None:
        for item in items:
            question = normalise(item.question)
            if not question:
                continue
            prefix = question[:PREFIX_CHARS]
            entries = self._by_prefix.setdefault(prefix, [])
            if all(q != question for q, _ in entries):  # the same question twice: the first one wins
                entries.append((question, item))
                self._prefix_lengths.add(len(prefix))

    def find(self, prompt: str) -> SimItem | None:
        """The known problem whose question appears LAST in `prompt` (few-shot examples come first)."""
        text = normalise(prompt)
        found: tuple[int, int, SimItem] | None = None
        lengths = sorted(self._prefix_lengths)
        for match in _START.finditer(text):
            pos = match.start()
            for length in lengths:
                for question, item in self._by_prefix.get(text[pos:pos + length], ()):
                    if text.startswith(question, pos) and (found is None or (pos, len(question)) > found[:2]):
                        found = (pos, len(question), item)
        return found[2] if found else None


def asks_step_by_step(prompt: str) -> bool:
    return _STEP_BY_STEP.search(prompt) is not None


def asks_for_format(prompt: str, answer_format: str) -> bool:
    """Does the prompt spell out the answer format (\\boxed{} for integers, "Answer: X" for choices)?"""
    pattern = _ASKS_BOXED if answer_format == "integer" else _ASKS_ANSWER_LINE
    return pattern.search(prompt) is not None


_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]


def number_in_words(text: str) -> str:
    """"33" -> "thirty-three" for 0..999; anything else is returned unchanged."""
    if not text.isdigit() or int(text) > 999:
        return text
    value = int(text)
    hundreds, rest = divmod(value, 100)
    parts = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest or not parts:
        parts.append(_ONES[rest] if rest < 20 else _TENS[rest // 10] + (f"-{_ONES[rest % 10]}" if rest % 10 else ""))
    return " and ".join(parts)


_OPENERS = [
    "We need to find the quantity the problem asks for.",
    "Let me restate the problem to make sure I understand it.",
    "This looks like a problem where the key is to set up the right relation.",
    "First, identify what is given and what is asked.",
]
_STEPS = [
    "Writing the conditions as equations gives a system we can simplify.",
    "Substituting the known values reduces the expression considerably.",
    "Checking small cases suggests a pattern that we can verify in general.",
    "Rearranging terms isolates the unknown on one side.",
    "Counting the cases separately and adding them avoids double counting.",
    "Using symmetry, only one of the equivalent configurations needs to be examined.",
    "The constraint rules out every option except a few candidates.",
    "Evaluating the remaining candidates against the original statement narrows it down.",
    "A quick sanity check on the magnitude confirms the computation is plausible.",
    "Combining the partial results gives the final value.",
]


def reasoning(rng: random.Random, step_by_step: bool, verbosity: float) -> str:
    """Filler reasoning: longer (more output tokens) when the prompt asks for step-by-step work."""
    if step_by_step:
        count = max(2, round(rng.randint(6, 10) * verbosity))
        steps = [f"Step {i + 1}: {rng.choice(_STEPS)}" for i in range(count)]
        return rng.choice(_OPENERS) + "\n" + "\n".join(steps)
    count = max(1, round(rng.randint(1, 2) * verbosity))
    return " ".join([rng.choice(_OPENERS)] + [rng.choice(_STEPS) for _ in range(count - 1)])


def final_line(answer: str, answer_format: str, well_formed: bool, rng: random.Random) -> str:
    """How the reply states its answer; a malformed one says it in words or without the box / letter line."""
    if answer_format == "integer":
        if well_formed:
            return f"Therefore, the final answer is \\boxed{{{answer}}}."
        if answer.isdigit() and int(answer) <= 999 and rng.random() < 0.5:
            return f"So the answer is {number_in_words(answer)}."
        return f"So the final answer is {answer}."
    if well_formed:
        return f"Answer: {answer}"
    letter = answer.strip().upper()
    if len(letter) == 1 and "A" <= letter <= "J" and rng.random() < 0.5:
        return f"I am fairly confident the {_ORDINALS[ord(letter) - ord('A')]} option is the right one."
    return f"I would go with option ({letter})."
