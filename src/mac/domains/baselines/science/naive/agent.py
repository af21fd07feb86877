"""Naive science baseline: one call per question with a plain prompt, then the first "Answer: X" or "(X)"."""

import re
from concurrent.futures import ThreadPoolExecutor

from mac.sdk import BaseAgent, ModelClient, Prediction, Problem, remaining


def letter(reply: str) -> str:
    found = re.findall(r"Answer:\s*\(?([A-Z])\b", reply) or re.findall(r"\(([A-Z])\)", reply)
    return found[-1] if found else ""


class NaiveScienceAgent(BaseAgent):
    def solve(self, problems: list[Problem], timeout_sec: float) -> list[Prediction]:
        client = ModelClient(api_key=self.api_key or None, api_base=self.api_base or None, model=self.model or None)

        def one(problem: Problem) -> Prediction | None:
            if remaining() < 5:
                return None
            prompt = problem.question + "\n\n" + "\n".join(problem.choices or [])
            try:
                reply = client.chat([{"role": "user", "content": prompt}], temperature=0.0)
            except Exception:  # noqa: BLE001 - a failed call leaves this question unanswered
                return None
            return Prediction(idx=problem.idx, pred=letter(reply))

        with ThreadPoolExecutor(max_workers=8) as pool:
            return [p for p in pool.map(one, problems) if p is not None]
