"""Naive LiveCodeBench baseline: one call per problem with the statement (and the starter code), then the last
fenced code block of the reply, or the whole reply when it has none."""

import re
from concurrent.futures import ThreadPoolExecutor

from mac.sdk import BaseAgent, ModelClient, Prediction, Problem, remaining

_BLOCK = re.compile(r"```[A-Za-z0-9_+-]*\n(.*?)```", re.S)


def extract_code(reply: str) -> str:
    blocks = _BLOCK.findall(reply)
    return blocks[-1] if blocks else reply


def prompt(problem: Problem) -> str:
    if problem.extra.get("starter_code"):
        return f"{problem.question}\n\nStarter code:\n{problem.extra['starter_code']}"
    return problem.question


class NaiveLCBAgent(BaseAgent):
    def solve(self, problems: list[Problem], timeout_sec: float) -> list[Prediction]:
        client = ModelClient(api_key=self.api_key or None, api_base=self.api_base or None, model=self.model or None)

        def one(problem: Problem) -> Prediction | None:
            if remaining() < 5:
                return None
            try:
                reply = client.chat([{"role": "user", "content": prompt(problem)}], temperature=0.0)
            except Exception:  # noqa: BLE001 - a failed call leaves this problem unanswered
                return None
            return Prediction(idx=problem.idx, pred=extract_code(reply))

        with ThreadPoolExecutor(max_workers=8) as pool:
            return [p for p in pool.map(one, problems) if p is not None]
