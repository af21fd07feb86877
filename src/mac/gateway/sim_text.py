"""The `sim` task model's knowledge and voice: finding a known problem in a prompt, and writing a reply.

Pure functions and one index class; the sampling policy lives in mac.gateway.sim.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from mac.gateway.sim_formats import format_for, number_in_words
from mac.records import SimItem

__all__ = ["ItemIndex", "asks_for_format", "asks_step_by_step", "final_line", "made_up_distractors", "normalise",
           "number_in_words", "reasoning", "stray_answer"]

PREFIX_CHARS = 32
"""Questions are indexed by the first this-many characters of their normalised text."""

_START = re.compile(r"(?<![a-z0-9 ])[^ ]|(?<= )[^ ]")
"""Where a question may start in a normalised prompt: any non-space character not glued to a preceding letter."""
_STEP_BY_STEP = re.compile(
    r"step[- ]by[- ]step|think (?:carefully|through|it through)|reason (?:carefully|through)"
    r"|show (?:your|all) (?:work|reasoning|steps)|chain[- ]of[- ]thought|explain your reasoning",
    re.IGNORECASE,
)


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
    """Does the prompt spell out the answer format (the format's own rule, `mac.gateway.sim_formats`)?"""
    return format_for(answer_format).asks_for_format(prompt)


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
    """How the reply states its answer, in the item's format; a malformed one is missed by strict parsers."""
    return format_for(answer_format).final_line(answer, well_formed, rng)


def made_up_distractors(item: SimItem, rng: random.Random) -> list[str]:
    """Plausible wrong answers for an item that lists none, from its format."""
    return format_for(item.answer_format).distractors(item, rng)


def stray_answer(item: SimItem, rng: random.Random) -> str:
    """A wrong answer outside the distractors, from the item's format."""
    return format_for(item.answer_format).stray(item, rng)
