"""The development phase: the meta-agent runs in its sandbox (role "dev") until it exits or the deadline.

At the deadline its whole process tree is killed (the backend's pid namespace and process group), then the
caller closes the evaluation service and revokes the dev token, so nothing left behind can spend or probe.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from mac.config import Budget
from mac.metaagents.base import STAGE_MOUNT, LaunchContext, MetaAgent
from mac.sandbox.base import Bind, Relay, SandboxBackend, SandboxResult, SandboxSpec
from mac.store.models import MetaAgentExit
from mac.trial.workspace import EVAL_PORT, GATEWAY_PORT

KILL_GRACE_SEC = 2.0
"""How long after the deadline the controller waits for the backend's own wall-clock kill before killing."""


def dev_environment(*, token: str, model_name: str, deadline: float, seed: int, domain: str) -> dict[str, str]:
    """The meta-agent's environment: endpoints inside its sandbox and the dev token, nothing of the host."""
    base = f"http://127.0.0.1:{GATEWAY_PORT}/v1"
    return {
        "TASK_MODEL_API_BASE": base, "TASK_MODEL_API_KEY": token, "TASK_MODEL_NAME": model_name,
        "OPENAI_BASE_URL": base, "OPENAI_API_KEY": token,
        "EVALUATION_API_URL": f"http://127.0.0.1:{EVAL_PORT}",
        "MAC_DEADLINE": f"{deadline:.3f}", "MAC_SEED": str(seed), "MAC_DOMAIN": domain,
        "PYTHONUNBUFFERED": "1",
    }


def dev_spec(*, label: str, adapter: MetaAgent, ctx: LaunchContext, workspace: Path, gateway_socket: Path,
             eval_socket: Path, budget: Budget, seconds: float, egress_socket: Path | None = None) -> SandboxSpec:
    """The meta-agent's sandbox. With `egress_socket`, the egress proxy is relayed in and set as the HTTP(S) proxy;
    the adapter's credentials, extra binds and log folder (writable at /mac/out) are added here and only here."""
    from mac.egress import EGRESS_PORT, proxy_environment

    env = {**ctx.env, **adapter.env(ctx)}
    relays = [Relay(socket=gateway_socket, port=GATEWAY_PORT), Relay(socket=eval_socket, port=EVAL_PORT)]
    if egress_socket is not None:
        env.update(proxy_environment(EGRESS_PORT))
        relays.append(Relay(socket=egress_socket, port=EGRESS_PORT))
    env.update(adapter.credentials())
    limits = budget.dev_limits.model_copy(update={"wall_sec": max(1.0, seconds)})
    return SandboxSpec(
        label=label, role="dev", argv=adapter.argv(ctx), env=env, workspace=workspace, workspace_writable=True,
        outputs=ctx.log_dir, extra_binds=[Bind(src=ctx.stage_dir, dst=STAGE_MOUNT), *adapter.binds(ctx)],
        relays=relays, limits=limits)


async def run_meta_agent(backend: SandboxBackend, spec: SandboxSpec, deadline: float) -> SandboxResult:
    """Start the meta-agent; kill its tree at `deadline` (unix time) if the backend has not already."""
    process = await backend.start(spec)
    try:
        timeout = max(0.0, deadline - time.time()) + KILL_GRACE_SEC
        return await asyncio.wait_for(asyncio.shield(process.wait()), timeout)
    except TimeoutError:
        await process.kill("deadline")
        return await process.wait()
    except BaseException:
        await process.kill("cancelled")
        raise


def exit_info(result: SandboxResult, deadline: float) -> MetaAgentExit:
    timed_out = result.timed_out or result.killed_by in ("wall", "deadline") or time.time() >= deadline
    return MetaAgentExit(returncode=result.returncode, timed_out=timed_out, killed_by=result.killed_by,
                         wall_sec=result.wall_sec)
