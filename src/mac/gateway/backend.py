"""What the gateway calls to get completions: the Backend contract and `make_backend`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping

from mac.config import TaskModelSpec
from mac.records import SimItem
from mac.registry import Registry

if TYPE_CHECKING:
    from mac.gateway.sim import SimConfig


class Backend(ABC):
    """A source of chat completions. The gateway has already authenticated, admitted and rewritten the request.

    `body` is an OpenAI chat-completions body whose `model` is the upstream name and whose max-token fields are
    clamped; `caller` is the token id (the sim draws its samples per caller). Failures raise
    `mac.gateway.wire.UpstreamError`; the gateway applies `timeout_sec` to every wait.
    """

    simulated: bool = False
    upstream_model: str = ""
    timeout_sec: float = 600.0
    price_input_per_mtok: float = 0.0
    price_output_per_mtok: float = 0.0
    max_output_tokens: int = 32768
    """The model's output limit per reply: what the gateway reserves for a request that names no max_tokens."""
    max_tokens_field: str = "max_tokens"
    """Where the gateway puts its output cap when the client set none ("max_completion_tokens" for some APIs)."""

    async def start(self) -> None:
        """Open connections (called by Gateway.start)."""

    async def close(self) -> None:
        """Release connections (called by Gateway.close)."""

    def add_items(self, items: Iterable[SimItem]) -> None:
        """Learn more problems (SimBackend); a no-op elsewhere."""

    @abstractmethod
    async def complete(self, body: dict[str, Any], caller: str) -> dict[str, Any]:
        """One non-streaming chat completion (the OpenAI response object)."""

    @abstractmethod
    def stream(self, body: dict[str, Any], caller: str) -> AsyncGenerator[dict[str, Any], None]:
        """The chunks of a streaming completion; a usage-only chunk (no choices) may come last."""

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.price_input_per_mtok + output_tokens * self.price_output_per_mtok) / 1e6


BackendFactory = Callable[[TaskModelSpec, Iterable[SimItem], "SimConfig | None"], Backend]
"""Makes a task-model backend from the spec (and, for simulators, the problems it must know)."""

GATEWAYS: Registry[BackendFactory] = Registry("task-model backend", group="mac.gateways")
"""Task-model backends by `TaskModelSpec.backend`: the built-ins and `mac.gateways` entry points (factories)."""


@GATEWAYS.register(name="sim")
def _sim_backend(spec: TaskModelSpec, sim_items: Iterable[SimItem], sim_config: SimConfig | None) -> Backend:
    from mac.gateway.sim import SimBackend, SimConfig

    config = sim_config or SimConfig(seed=spec.seed)
    return SimBackend(sim_items, config, model=spec.name, prices=(spec.price_input_per_mtok, spec.price_output_per_mtok))


@GATEWAYS.register(name="openai")
def _openai_backend(spec: TaskModelSpec, sim_items: Iterable[SimItem], sim_config: SimConfig | None) -> Backend:
    from mac.gateway.openai_backend import OpenAIBackend

    return OpenAIBackend.from_spec(spec)


def make_backend(spec: TaskModelSpec, sim_items: Iterable[SimItem] = (), sim_config: SimConfig | None = None) -> Backend:
    """The backend a spec names: `SimBackend` (knowing `sim_items`), `OpenAIBackend` (key from the controller env)
    or a plugin's. ConfigError for an unknown backend name."""
    return GATEWAYS.get(spec.backend)(spec, sim_items, sim_config)


def make_phase_backends(spec: TaskModelSpec, items: Mapping[str, Iterable[SimItem]],
                        sim_config: SimConfig | None = None) -> dict[str, Backend]:
    """A backend for each phase in `items` (phase -> the problems of its split), for `Gateway(phase_backends=...)`.

    A simulated backend is made once per phase and knows only that phase's problems: the dev token then cannot
    reach test answers, and a test question asked on it is just an unknown prompt. A real upstream knows no
    problems: one backend (one connection pool) serves every phase."""
    (first_phase, first_items), *rest = items.items()
    first = make_backend(spec, first_items, sim_config)
    if not first.simulated:
        return {phase: first for phase in items}
    return {first_phase: first, **{phase: make_backend(spec, its, sim_config) for phase, its in rest}}
