"""The in-sandbox runner: load the artifact, call `solve`, write predictions. Runs with the artifact's privileges.

    python -m mac.sdk.run --agent /workspace/agent.py --problems IN.json --out OUT.json --timeout SEC

It is untrusted like the artifact it hosts (it shares its process): the controller validates everything it
writes. Output is one JSON object written atomically to `--out`:
`{"predictions": [{"idx", "pred"}], "partial", "timed_out", "error", "traceback"}`.
A watchdog thread writes what the journal holds at the deadline and exits the process, so a `solve` that never
returns, or a thread pool left running, cannot hold the run past its deadline.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import os
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from mac.sdk import journal, timing
from mac.sdk.agent import BaseAgent
from mac.sdk.types import Problem

_write_lock = threading.Lock()
_written = False


def load_agent_class(agent_path: Path) -> type:
    """The single leaf BaseAgent subclass defined in `agent_path` (MAC bases included, they subclass BaseAgent)."""
    sys.path.insert(0, str(agent_path.parent))
    spec = importlib.util.spec_from_file_location("agent", agent_path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {agent_path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["agent"] = module
    spec.loader.exec_module(module)
    defined = [
        obj for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, BaseAgent) and obj.__module__ == module.__name__
    ]
    leaves = [c for c in defined if not any(o is not c and issubclass(o, c) for o in defined)]
    leaves = [c for c in leaves if not inspect.isabstract(c)] or leaves
    if not leaves:
        raise RuntimeError("agent.py defines no BaseAgent subclass (subclass mac.sdk.BaseAgent or a MAC base)")
    if len(leaves) > 1:
        names = ", ".join(sorted(c.__name__ for c in leaves))
        raise RuntimeError(f"agent.py defines {len(leaves)} agent classes ({names}); keep exactly one")
    return leaves[0]


def build_agent(cls: type) -> Any:
    kwargs = {
        "api_key": os.environ.get("TASK_MODEL_API_KEY", ""),
        "api_base": os.environ.get("TASK_MODEL_API_BASE", ""),
        "model": os.environ.get("TASK_MODEL_NAME", ""),
    }
    try:
        return cls(**kwargs)
    except TypeError:
        return cls()  # an __init__ without these keywords


def _encode(prediction: Any) -> dict:
    idx = getattr(prediction, "idx", None)
    pred = getattr(prediction, "pred", None)
    item: dict[str, Any] = {"idx": idx if isinstance(idx, int) and not isinstance(idx, bool) else repr(idx)}
    if isinstance(pred, str):
        item["pred"] = pred
    else:
        item["pred"] = None
        item["pred_type"] = type(pred).__name__
    return item


def write_result(out: Path, predictions: list, *, partial: bool, timed_out: bool, error: str | None = None,
                 tb: str | None = None) -> bool:
    """Write the result once; later calls (the watchdog racing a normal return) do nothing."""
    global _written
    with _write_lock:
        if _written:
            return False
        payload = {"predictions": [_encode(p) for p in predictions], "partial": partial, "timed_out": timed_out,
                   "error": error, "traceback": tb}
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(payload))
        os.replace(tmp, out)
        _written = True
        return True


def _watchdog(out: Path, timeout: float) -> None:
    threading.Event().wait(timeout)
    write_result(out, journal.snapshot(), partial=True, timed_out=True, error=f"solve did not return within {timeout:g}s")
    sys.stdout.flush()
    os._exit(0)


def load_problems(path: Path) -> list[Problem]:
    raw = json.loads(path.read_text())
    return [Problem(idx=p["idx"], question=p["question"], choices=p.get("choices"), extra=p.get("extra") or {})
            for p in raw]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mac.sdk.run")
    parser.add_argument("--agent", type=Path, required=True)
    parser.add_argument("--problems", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    args = parser.parse_args(argv)

    timing.set_deadline(args.timeout)
    threading.Thread(target=_watchdog, args=(args.out, args.timeout), daemon=True).start()
    problems = load_problems(args.problems)
    try:
        agent = build_agent(load_agent_class(args.agent))
        result = agent.solve(problems, args.timeout)
        if not isinstance(result, (list, tuple)):
            raise TypeError(f"solve returned {type(result).__name__}, expected a list of Prediction")
        write_result(args.out, list(result), partial=False, timed_out=False)
    except BaseException as exc:  # noqa: BLE001 - report anything the artifact raises, then exit
        write_result(args.out, journal.snapshot(), partial=True, timed_out=False,
                     error=f"{type(exc).__name__}: {exc}"[:2000], tb=traceback.format_exc()[-8000:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # do not wait for thread pools the artifact left running


if __name__ == "__main__":
    main()
