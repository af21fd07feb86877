"""The model gateway: an OpenAI-compatible proxy that is an artifact's only way to a model.

Contract (used by mac.evaluation and mac.trial):

    backend = make_backend(spec: TaskModelSpec, sim_items: list[SimItem] = ())   # SimBackend or OpenAIBackend
    async with Gateway(backend, model_name=spec.name, log_path=..., socket_dir=..., evidence=EvidenceLog|None,
                       tcp_port=None) as gw:
        grant = gw.grant(phase="dev", quota=Quota(...), label="trial-1")          # -> Grant(token, phase, label)
        sock = await gw.open_channel(grant.token, label="dev-eval-3")           # a unix socket for ONE sandbox
        ...                                                                     # requests on `sock` must carry
        await gw.close_channel(sock)                                            # that grant's token
        gw.revoke(grant.token)                                                  # 401 from now on
        gw.usage(grant.token) -> Usage

Endpoints: POST /v1/chat/completions (streaming and not; the model name is forced), GET /v1/models,
GET /v1/stats. Unknown, revoked or foreign-channel tokens -> 401; an exhausted quota -> 429 naming it.
Every call is appended to `log_path` (JSONL); refusals also go to the evidence log.
"""
