"""The artifact SDK: what an artifact (`agent.py`) imports. Depends on nothing else in MAC.

    from mac.sdk import BaseAgent, Problem, Prediction, ModelClient, remaining

    class Agent(BaseAgent):
        def solve(self, problems, timeout_sec):
            client = ModelClient()
            return [Prediction(p.idx, client.chat([{"role": "user", "content": p.question}])) for p in problems]

Contract:
- Exactly one `BaseAgent` subclass per `agent.py` (a base class of your own plus one leaf is fine).
- The runner builds it with keyword arguments `api_key`, `api_base`, `model` (the gateway's, for this run).
- `solve` returns one `Prediction(idx, pred: str)` per problem. `remaining()` tells the seconds left.
- Predictions created before the deadline are kept as a partial result even if `solve` never returns.
- The only network is the task-model gateway at `TASK_MODEL_API_BASE`.

Task domains (Terminal-Bench, SWE-bench) take an agentic artifact instead: one class with
`async run(instruction, environment, context)`, usually built on `harbor.agents.base.BaseAgent` (MAC's shim,
see mac.sdk.agentic), driving the task environment through `await environment.exec(...)`.
"""

from mac.sdk.agent import BaseAgent
from mac.sdk.client import ModelClient
from mac.sdk.timing import deadline, remaining
from mac.sdk.types import Prediction, Problem

__all__ = ["BaseAgent", "ModelClient", "Prediction", "Problem", "deadline", "remaining"]
