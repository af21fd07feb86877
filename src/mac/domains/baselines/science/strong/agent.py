"""Strong science baseline: step-by-step prompt asking for "Answer: X", self-consistency over k samples at
temperature 0.7, careful letter extraction checked against the question's choices, concurrent calls, early
stopping, and the deadline respected."""

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from mac.sdk import BaseAgent, ModelClient, Prediction, Problem, remaining

SAMPLES = 8
SETTLED = 5
WORKERS = 16
MARGIN_SEC = 10.0

SYSTEM = ("You are an expert scientist answering a difficult multiple-choice question. Think step by step: "
          "recall the relevant principles, evaluate every option, and rule out the wrong ones. "
          "Finish with a final line of exactly the form 'Answer: X', where X is the letter of the one best option.")
_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]


def valid_letters(problem: Problem) -> set[str]:
    letters = set()
    for i, choice in enumerate(problem.choices or []):
        m = re.match(r"\s*\(?([A-Z])[).:]", choice)
        letters.add(m.group(1) if m else chr(ord("A") + i))
    return letters


def extract(reply: str, letters: set[str]) -> str | None:
    """The chosen letter, from "Answer: X", "option (X)" or "the third option"; None when unclear."""
    patterns = [r"Answer:\s*\**\(?([A-Z])\b", r"answer is\s*\(?([A-Z])\b", r"option\s*\(([A-Z])\)"]
    for pattern in patterns:
        found = [x for x in re.findall(pattern, reply) if x in letters]
        if found:
            return found[-1]
    ordinal = re.findall(r"the (\w+) option", reply, re.IGNORECASE)
    if ordinal and ordinal[-1].lower() in _ORDINALS:
        letter = chr(ord("A") + _ORDINALS.index(ordinal[-1].lower()))
        return letter if letter in letters else None
    return None


def prompt(problem: Problem) -> str:
    return problem.question.strip() + "\n\nOptions:\n" + "\n".join(problem.choices or [])


class StrongScienceAgent(BaseAgent):
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
            messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt(problem)}]
            try:
                reply = client.chat(messages, temperature=0.7)
            except Exception:  # noqa: BLE001 - one failed sample is one missing vote
                return
            answer = extract(reply, valid_letters(problem))
            if answer is None:
                return
            with lock:
                votes[problem.idx][answer] += 1
                best = votes[problem.idx].most_common(1)[0][0]
            Prediction(idx=problem.idx, pred=best)  # kept if the run is cut off before we return

        jobs = [p for _ in range(SAMPLES) for p in problems]  # round-robin: first votes for everyone first
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
