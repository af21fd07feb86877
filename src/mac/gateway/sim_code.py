"""The "code" answer format of the `sim`: a reply that ends with a Python program.

Well formed, the program is in one fenced block (```python ... ```), as prompts usually ask. Malformed, it comes
without a fence after a line of prose (so "take the code block" finds nothing and the whole reply does not
parse), or it is followed by a second fenced block with a usage note (so "take the last block" takes the note).
Prompts that mention a code block, fences or delimiters get fewer malformed replies.

Which program a reply carries is the sampling policy's choice (mac.gateway.sim): the item's answer (the
reference solution) or one of its distractors (wrong variants, most likely first). A domain whose problem has
no reference makes the answer itself a valid but wrong program, and lists a generic wrong program last among
the distractors: that is the stray answer here.
"""

from __future__ import annotations

import random
import re

from mac.gateway.sim_formats import AnswerFormat, register_format
from mac.records import SimItem

GENERIC_WRONG = "import sys\n\nprint(len(sys.stdin.read().split()))\n"
"""A valid program that solves nothing: the stray answer of an item with no distractors."""
_ASKS = re.compile(r"```|code block|fenced|delimiters|markdown", re.IGNORECASE)
_PROSE = ["Here is the complete program:", "The full solution follows.", "This program implements the idea above:"]


@register_format
class CodeFormat(AnswerFormat):
    name = "code"

    def asks_for_format(self, prompt: str) -> bool:
        return _ASKS.search(prompt) is not None

    def final_line(self, answer: str, well_formed: bool, rng: random.Random) -> str:
        code = answer.strip("\n")
        if well_formed:
            return f"```python\n{code}\n```"
        if rng.random() < 0.5:
            return f"{rng.choice(_PROSE)}\n\n{code}\n"
        return f"```python\n{code}\n```\n\nExample usage:\n```\n$ python solution.py < input.txt\n```"

    def stray(self, item: SimItem, rng: random.Random) -> str:
        return item.distractors[-1] if item.distractors else GENERIC_WRONG
