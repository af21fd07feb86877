"""The agentic artifact runner (inside the artifact's sandbox): load a Harbor-style agent and run it on one task.

    python -m mac.sdk.agentic --agent /workspace/agent.py --instruction /mac/in/instruction.md \
        --relay 127.0.0.1:8001 --out /mac/out/agent.json --timeout SEC

The contract: `agent.py` holds one class with `async run(instruction, environment, context)` (usually a
subclass of `harbor.agents.base.BaseAgent`; the `harbor` package and `base_agent` module found here are MAC's
shim, see mac/sdk/harbor_shim). It is built with `logs_dir` and `model_name` (TASK_MODEL_NAME), then `setup`
and `run` are awaited. `environment.exec(command, cwd, env, timeout_sec, user)` and the file transfers go over
the relay to the controller, which runs them in the task environment and logs each call. The agent never sees
the environment's files otherwise, nor the task's tests or solution.

Output: `{"ok", "error", "traceback", "timed_out", "context"}` written to --out at the end, or at the deadline by
a watchdog (the context as it was then). Untrusted like the artifact: the controller validates all of it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import inspect
import io
import json
import os
import sys
import tarfile
import threading
import traceback
from pathlib import Path

SHIM = Path(__file__).resolve().parent / "harbor_shim"
MAX_LINE = 256 << 20


def _install_shim() -> None:
    if str(SHIM) not in sys.path:
        sys.path.insert(0, str(SHIM))
    for name in [n for n in sys.modules if n == "base_agent"]:
        del sys.modules[name]  # MAC's short-answer base_agent; the agentic one is the shim's


class RelayConnection:
    """One JSON-lines connection to the controller's relay; calls on it are serialised."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def call(self, request: dict) -> dict:
        reader, writer = (self._idle.pop() if self._idle else
                          await asyncio.open_connection(self.host, self.port, limit=MAX_LINE))
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        line = await reader.readline()
        if not line:
            writer.close()
            raise RuntimeError("the environment relay closed (the agent phase is over, or the call was refused)")
        self._idle.append((reader, writer))
        reply = json.loads(line)
        if not reply.get("ok"):
            raise RuntimeError(f"environment {request.get('op')} failed: {reply.get('message')}")
        return reply


def make_environment(relay: RelayConnection):
    from harbor.environments.base import BaseEnvironment, ExecResult

    class RemoteEnvironment(BaseEnvironment):
        """The task environment, reached through the controller."""

        async def exec(self, command, cwd=None, env=None, timeout_sec=None, user=None, **_ignored):
            reply = await relay.call({"op": "exec", "command": command, "cwd": cwd, "env": env or {},
                                      "timeout": timeout_sec, "user": None if user is None else str(user)})
            return ExecResult(stdout=reply.get("stdout"), stderr=reply.get("stderr"),
                              return_code=reply.get("returncode") if reply.get("returncode") is not None else -1)

        async def upload_file(self, source_path, target_path):
            data = Path(source_path).read_bytes()
            await relay.call({"op": "upload_file", "target": str(target_path), "data": _b64(data)})

        async def upload_dir(self, source_dir, target_dir):
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
                tar.add(str(source_dir), arcname=".")
            await relay.call({"op": "upload_dir", "target": str(target_dir), "data": _b64(buffer.getvalue())})

        async def download_file(self, source_path, target_path):
            reply = await relay.call({"op": "download_file", "source": str(source_path)})
            Path(target_path).parent.mkdir(parents=True, exist_ok=True)
            Path(target_path).write_bytes(base64.b64decode(reply["data"]))

        async def download_dir(self, source_dir, target_dir):
            reply = await relay.call({"op": "download_dir", "source": str(source_dir)})
            with tarfile.open(fileobj=io.BytesIO(base64.b64decode(reply["data"])), mode="r:*") as tar:
                try:
                    tar.extractall(str(target_dir), filter="data")
                except TypeError:  # an interpreter without extraction filters (< 3.11.4)
                    tar.extractall(str(target_dir))

    return RemoteEnvironment()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def load_agent_class(path: Path) -> type:
    sys.path.insert(1, str(path.parent))
    spec = importlib.util.spec_from_file_location("agent", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["agent"] = module
    spec.loader.exec_module(module)
    from harbor.agents.base import BaseAgent

    found = [obj for obj in vars(module).values() if inspect.isclass(obj) and obj is not BaseAgent
             and inspect.iscoroutinefunction(getattr(obj, "run", None)) and not inspect.isabstract(obj)]
    leaves = [c for c in found if not any(o is not c and issubclass(o, c) for o in found)]
    own = [c for c in leaves if c.__module__ == "agent"] or leaves
    if len(own) != 1:
        names = ", ".join(c.__name__ for c in own) or "none"
        raise RuntimeError(f"{path.name} must define exactly one agent class with `async def run(instruction, "
                           f"environment, context)` (found: {names})")
    return own[0]


def build_agent(cls: type, model: str | None):
    logs = Path("/tmp/agent-logs")  # Harbor hands agents an existing logs_dir
    logs.mkdir(parents=True, exist_ok=True)
    try:
        return cls(logs_dir=logs, model_name=model)
    except TypeError:
        return cls()


class Output:
    def __init__(self, path: Path):
        self.path, self.lock, self.written = path, threading.Lock(), False

    def write(self, payload: dict) -> None:
        with self.lock:
            if self.written:
                return
            self.written = True
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(payload, default=repr))
            os.replace(tmp, self.path)


def context_dict(context) -> dict:
    return {k: v for k, v in vars(context).items() if not k.startswith("_")}


async def main_async(args: argparse.Namespace, out: Output, context) -> dict:
    host, _, port = args.relay.rpartition(":")
    environment = make_environment(RelayConnection(host, int(port)))
    agent = build_agent(load_agent_class(Path(args.agent)), os.environ.get("TASK_MODEL_NAME"))
    instruction = Path(args.instruction).read_text()
    if hasattr(agent, "setup"):
        await agent.setup(environment)
    await agent.run(instruction, environment, context)
    return {"ok": True, "timed_out": False}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mac.sdk.agentic")
    for flag in ("--agent", "--instruction", "--relay", "--out"):
        parser.add_argument(flag, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    args = parser.parse_args(argv)
    _install_shim()
    from harbor.models.agent.context import AgentContext

    context = AgentContext()
    out = Output(Path(args.out))
    watchdog = threading.Timer(args.timeout, lambda: (out.write({"ok": False, "timed_out": True,
                                                                 "context": context_dict(context)}), os._exit(0)))
    watchdog.daemon = True
    watchdog.start()
    try:
        result = asyncio.run(main_async(args, out, context))
    except BaseException as exc:  # the artifact's failure is a result, never a crash of the runner
        result = {"ok": False, "timed_out": False, "error": f"{type(exc).__name__}: {exc}"[:4000],
                  "traceback": traceback.format_exc()[-8000:]}
    out.write({**result, "context": context_dict(context)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
