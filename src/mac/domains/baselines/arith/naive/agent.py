"""Naive arith baseline: one call per problem with a plain prompt, then the last integer of the reply."""

import re
from concurrent.futures import ThreadPoolExecutor

from mac.sdk import BaseAgent, ModelClient, Prediction, Problem, remaining


def last_integer(reply: str) -> str:
    numbers = re.findall(r"\d+", reply.replace(",", ""))
    return numbers[-1] if numbers else ""


class NaiveArithAgent(BaseAgent):
    def solve(self, problems: list[Problem], timeout_sec: float) -> list[Prediction]:
        client = ModelClient(api_key=self.api_key or None, api_base=self.api_base or None, model=self.model or None)

        def one(problem: Problem) -> Prediction | None:
            if remaining() < 5:
                return None
            try:
                reply = client.chat([{"role": "user", "content": problem.question}], temperature=0.0)
            except Exception:  # noqa: BLE001 - a failed call leaves this problem unanswered
                return None
            return Prediction(idx=problem.idx, pred=last_integer(reply))

        with ThreadPoolExecutor(max_workers=8) as pool:
            return [p for p in pool.map(one, problems) if p is not None]
