"""Run a Harbor-style agent artifact on Harbor tasks: the runner the Terminal-Bench and SWE-bench domains wrap.

Per task:
1. the task environment starts (its own sandbox: the image, no network unless the task allows it);
2. the artifact runs in its own artifact sandbox (a read-only snapshot of its folder, the gateway at
   127.0.0.1:8000, the environment relay at 127.0.0.1:8001, nothing else), with the instruction and
   TASK_MODEL_*; every `environment.exec` goes through the relay and is logged (`exec_log`);
3. at the agent's end (it returned, failed, or hit `agent_timeout`) the relay closes and the environment is
   restarted: every process the agent started dies; then a fresh copy of tests/ and an empty /logs/verifier are
   bound in and tests/test.sh runs;
4. the controller reads the reward. Tests and solution never enter the environment during the agent phase.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from mac.environments.base import EnvironmentBackend
from mac.environments.relay import ENV_RELAY_PORT, ExecRelay
from mac.environments.task import Task
from mac.environments.verify import TestOutcome, run_tests
from mac.errors import ConfigError, MacError
from mac.paths import scratch_home
from mac.sandbox.base import Relay, SandboxBackend, SandboxSpec
from mac.sandbox.snapshot import snapshot_workspace

GATEWAY_PORT = 8000
GRACE_SEC = 5.0
MAX_CONTEXT_BYTES = 1 << 20


class AgentPhase(BaseModel):
    ok: bool = False
    timed_out: bool = False
    error: str | None = None
    returncode: int | None = None
    killed_by: str | None = None
    stderr_tail: str = ""
    context: dict[str, Any] = Field(default_factory=dict)


class TaskRunResult(BaseModel):
    task: str
    reward: float | None = None
    rewards: dict[str, float] = Field(default_factory=dict)
    agent: AgentPhase = Field(default_factory=AgentPhase)
    tests: TestOutcome | None = None
    exec_log: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None
    simulated: bool = False


def locate_agent(artifact: Path) -> tuple[Path, str]:
    if artifact.is_dir() and (artifact / "agent.py").is_file():
        return artifact, "agent.py"
    if artifact.is_file() and artifact.suffix == ".py":
        return artifact.parent, artifact.name
    raise ConfigError(f"agent {artifact} not found: pass a folder holding agent.py, or the agent .py file")


async def run_agent_task(task: Task, *, artifact: Path, env_backend: EnvironmentBackend,
                         sandbox: SandboxBackend, gateway, token: str, agent_timeout: float | None = None,
                         log_dir: Path | None = None) -> TaskRunResult:
    """Run one task end to end (see the module docstring). Failures of the agent or the task are results."""
    result = TaskRunResult(task=task.name, simulated=bool(getattr(gateway.backend, "simulated", False)))
    timeout = float(agent_timeout or task.config.agent.timeout_sec or 600.0)
    scratch = Path(tempfile.mkdtemp(prefix=f"task-{task.name[:40]}-", dir=scratch_home()))
    scratch.chmod(0o711)
    try:
        environment = await env_backend.start(task.environment_spec(f"task-{task.name}", wall_sec=timeout * 2 + 3600))
        async with environment:
            await environment.exec("mkdir -p /logs/agent /logs/artifacts", timeout=30)
            relay = ExecRelay(environment, scratch=scratch, max_timeout=timeout,
                              log_path=(log_dir / f"{task.name}.exec.jsonl") if log_dir else None)
            (scratch / "relay").mkdir(mode=0o711)
            await relay.start(scratch / "relay" / "env.sock")
            try:
                result.agent = await _agent_phase(task, artifact, sandbox, gateway, token, relay, scratch, timeout)
            finally:
                await relay.close()
                result.exec_log = relay.calls
            result.tests = await run_tests(environment, task, scratch / "verify")
            result.reward, result.rewards = result.tests.reward, result.tests.rewards
    except MacError as exc:
        result.error = str(exc)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


async def _agent_phase(task: Task, artifact: Path, sandbox: SandboxBackend, gateway, token: str, relay: ExecRelay,
                       scratch: Path, timeout: float) -> AgentPhase:
    relay_socket = relay.socket_path
    if relay_socket is None:
        raise MacError("the exec relay is not started")
    folder, agent_name = locate_agent(Path(artifact))
    snapshot = snapshot_workspace(folder, scratch / "workspace")
    inputs, outputs = scratch / "in", scratch / "out"
    inputs.mkdir(mode=0o755)
    outputs.mkdir()
    outputs.chmod(0o777)
    (inputs / "instruction.md").write_text(task.instruction)
    (inputs / "instruction.md").chmod(0o644)
    channel = await gateway.open_channel(token, label=f"agent-{task.name}")
    base_url = f"http://127.0.0.1:{GATEWAY_PORT}/v1"
    env = {"TASK_MODEL_API_BASE": base_url, "TASK_MODEL_API_KEY": token, "OPENAI_BASE_URL": base_url,
           "OPENAI_API_KEY": token, "TASK_MODEL_NAME": str(gateway.model_name), "PYTHONUNBUFFERED": "1"}
    spec = SandboxSpec(label=f"agent-{task.name}", role="artifact", env=env, workspace=snapshot.path,
                       inputs=inputs, outputs=outputs,
                       argv=["python", "-m", "mac.sdk.agentic", "--agent", f"/workspace/{agent_name}",
                             "--instruction", "/mac/in/instruction.md", "--relay", f"127.0.0.1:{ENV_RELAY_PORT}",
                             "--out", "/mac/out/agent.json", "--timeout", str(timeout)],
                       relays=[Relay(socket=Path(channel), port=GATEWAY_PORT),
                               Relay(socket=relay_socket, port=ENV_RELAY_PORT)])
    spec.limits = spec.limits.model_copy(update={"wall_sec": timeout + GRACE_SEC})
    try:
        ran = await sandbox.run(spec)
    finally:
        await gateway.close_channel(channel)
    phase = AgentPhase(returncode=ran.returncode, killed_by=ran.killed_by, timed_out=ran.timed_out,
                       stderr_tail=ran.stderr[-4000:])
    return _read_agent_output(outputs / "agent.json", phase)


def _read_agent_output(path: Path, phase: AgentPhase) -> AgentPhase:
    """The runner's report, untrusted: size-capped, types checked."""
    try:
        raw = path.read_bytes()[:MAX_CONTEXT_BYTES + 1] if path.is_file() and not path.is_symlink() else b""
        data = json.loads(raw) if raw and len(raw) <= MAX_CONTEXT_BYTES else {}
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    phase.ok = data.get("ok") is True
    phase.timed_out = phase.timed_out or data.get("timed_out") is True
    phase.error = str(data["error"])[:4000] if data.get("error") else (None if data else "the agent wrote no report")
    context = data.get("context")
    phase.context = context if isinstance(context, dict) else {}
    return phase
