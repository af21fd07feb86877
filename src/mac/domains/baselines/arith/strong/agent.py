"""Strong arith baseline: step-by-step prompt asking for \\boxed{N}, self-consistency over k samples at
temperature 0.7, careful answer extraction, concurrent calls, early stopping, and the deadline respected."""

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from mac.sdk import BaseAgent, ModelClient, Prediction, Problem, remaining

SAMPLES = 6
"""Votes per problem at most."""
SETTLED = 4
"""Stop sampling a problem once its leading answer has this many votes."""
WORKERS = 16
MARGIN_SEC = 10.0
"""Stop starting calls this long before the deadline, so answers are returned in time."""

SYSTEM = ("Solve the word problem step by step: write down each quantity and each operation, and check the "
          "arithmetic. The answer is a whole number. End your reply with the final answer in the form \\boxed{N}.")

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORDS = {w: i for i, w in enumerate(_ONES)} | {w: 10 * i for i, w in enumerate(_TENS) if w}


def words_to_int(text: str) -> int | None:
    """ "three hundred and thirty-three" -> 333; None unless every word is a number word."""
    total, seen = 0, False
    for word in re.split(r"[\s-]+", text.lower().strip(" .,!")):
        if word == "and":
            continue
        if word == "hundred" and seen:
            total *= 100
        elif word in _WORDS:
            total += _WORDS[word]
            seen = True
        else:
            return None
    return total if seen else None


def extract(reply: str) -> str | None:
    """The reply's final whole number, from \\boxed{}, a final-answer sentence, or number words."""
    reply = re.sub(r"(?<=\d),(?=\d{3}\b)", "", reply)
    boxed = re.findall(r"\\boxed\s*\{\s*(\d{1,12})\s*\}", reply)
    if boxed:
        return str(int(boxed[-1]))
    stated = re.findall(r"answer is\s*:?\s*\$?(\d{1,12})\b", reply, re.IGNORECASE)
    if stated:
        return str(int(stated[-1]))
    worded = re.findall(r"answer is ([a-z -]+)", reply, re.IGNORECASE)
    if worded:
        value = words_to_int(worded[-1])
        if value is not None:
            return str(value)
    return None


class StrongArithAgent(BaseAgent):
    def solve(self, problems: list[Problem], timeout_sec: float) -> list[Prediction]:
        client = ModelClient(api_key=self.api_key or None, api_base=self.api_base or None, model=self.model or None)
        votes: dict[int, Counter] = {p.idx: Counter() for p in problems}
        lock = threading.Lock()

        def settled(idx: int) -> bool:
            counts = votes[idx].most_common(1)
            return bool(counts) and counts[0][1] >= SETTLED

        def sample(problem: Problem) -> None:
            with lock:
                if settled(problem.idx):
                    return
            if remaining() < MARGIN_SEC:
                return
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": problem.question}]
            try:
                reply = client.chat(messages, temperature=0.7)
            except Exception:  # noqa: BLE001 - one failed sample is one missing vote
                return
            answer = extract(reply)
            if answer is None:
                return
            with lock:
                votes[problem.idx][answer] += 1
                best = votes[problem.idx].most_common(1)[0][0]
            Prediction(idx=problem.idx, pred=best)  # kept if the run is cut off before we return

        # Round-robin order: every problem gets its first votes before any gets its last.
        jobs = [p for _ in range(SAMPLES) for p in problems]
        pool = ThreadPoolExecutor(max_workers=WORKERS)
        futures = [pool.submit(sample, p) for p in jobs]
        for future in futures:
            left = remaining() - MARGIN_SEC / 2
            if left <= 0:
                break
            try:
                future.result(timeout=None if left == float("inf") else left)
            except Exception:  # noqa: BLE001 - timeout: return what we have
                break
        pool.shutdown(wait=False, cancel_futures=True)
        with lock:
            return [Prediction(idx=i, pred=c.most_common(1)[0][0]) for i, c in votes.items() if c]
