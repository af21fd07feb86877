"""The model gateway: an OpenAI-compatible proxy that is an artifact's only way to a model.

Contract (used by mac.evaluation and mac.trial):

    backend = make_backend(spec: TaskModelSpec, sim_items: Iterable[SimItem] = (), sim_config: SimConfig | None = None)
    backend.add_items(items)                                                    # SimBackend learns more problems;
                                                                                # a no-op on OpenAIBackend
    backends = make_phase_backends(spec, {"dev": dev_items, "verify": test_items})  # a sim per phase, knowing
                                                                                # only its split (a real upstream:
                                                                                # one backend shared)
    async with Gateway(backend, model_name=spec.name, log_path=..., socket_dir=..., evidence=EvidenceLog|None,
                       tcp_port=None, phase_backends=backends) as gw:           # or await gw.start() / gw.close()
        grant = gw.grant(phase="dev", quota=Quota(...), label="trial-1")        # -> Grant(token, token_id, phase, label);
                                                                                # its calls go to backends["dev"]
                                                                                # (else to `backend`)
        sock = await gw.open_channel(grant.token, label="dev-eval-3")           # a unix socket for ONE sandbox
        ...                                                                     # requests on `sock` must carry
        await gw.close_channel(sock)                                            # that grant's token
        gw.revoke(grant.token)                                                  # 401 from now on
        gw.usage(grant.token) -> Usage
        gw.tcp_url -> "http://127.0.0.1:PORT/v1" | None                         # trusted-side listener (tcp_port=0:
                                                                                # ephemeral); any valid token works

Endpoints: POST /v1/chat/completions (streaming and not; the model name is forced upstream and in replies),
GET /v1/models, GET /v1/stats (usage, quota and what is left for the calling token).
Unknown, revoked or foreign-channel tokens -> 401; an exhausted quota -> 429 with
{"error": {"type": "quota_exceeded", "quota", "limit", "used", "message"}}. Token and cost budgets are hard under
concurrency: each request's worst case is reserved before it goes upstream (max_tokens clamped to what is left;
both caps set to the one reserved when a request gives max_tokens and max_completion_tokens) and settled to its
usage after (mac.gateway.meter); content parts other than text are refused (400: an image costs the upstream
more tokens than its bytes, which is all the gateway can reserve); streams are metered (upstream usage, else ~4 characters a
token). Upstream failures pass through
with their status (401/403 from upstream become 502; a hung upstream gives 504); those of status >= 500 count in
`Usage.upstream_errors`, apart from the gateway's own refusals (`Usage.refused`).
Every call is appended to `log_path` (JSONL, token ids only, see mac.gateway.calllog); refusals and misused
tokens also go to the evidence log. The upstream key stays in the controller (see mac.gateway.openai_backend).
Channels: `socket_dir/cN/gw.sock`, the socket 0666 in a 0711 folder; bind the folder into the sandbox.
The `sim` backend (mac.gateway.sim) is a simulated task model: results made with it are labelled simulated.
"""

from mac.gateway.backend import Backend, make_backend, make_phase_backends
from mac.gateway.grants import Grant
from mac.gateway.openai_backend import OpenAIBackend
from mac.gateway.server import Gateway
from mac.gateway.sim import SimBackend, SimConfig
from mac.gateway.wire import UpstreamError

__all__ = ["Backend", "Gateway", "Grant", "OpenAIBackend", "SimBackend", "SimConfig", "UpstreamError", "make_backend",
           "make_phase_backends"]
