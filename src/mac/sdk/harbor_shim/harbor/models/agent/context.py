"""What an agent reports about its run (the controller saves it): tokens, cost, free-form metadata."""

from __future__ import annotations

from typing import Any


class AgentContext:
    def __init__(self, **fields: Any):
        self.n_input_tokens: int | None = None
        self.n_output_tokens: int | None = None
        self.n_cache_tokens: int | None = None
        self.cost_usd: float | None = None
        self.rollout_details: Any = None
        self.metadata: dict[str, Any] | None = None
        for key, value in fields.items():
            setattr(self, key, value)

    def is_empty(self) -> bool:
        return all(v is None for v in vars(self).values())

    def model_dump(self) -> dict[str, Any]:
        return dict(vars(self))


__all__ = ["AgentContext"]
