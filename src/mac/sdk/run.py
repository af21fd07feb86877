"""The in-sandbox runner: load the artifact, call `solve`, write predictions. Runs with the artifact's privileges.

    python -m mac.sdk.run --agent /workspace/agent.py --problems IN.json --out OUT.json --timeout SEC \
                          [--journal JOURNAL.jsonl]

It is untrusted like the artifact it hosts (it shares its process): the controller validates everything it
writes. Output is one JSON object written atomically to `--out`:
`{"predictions": [{"idx", "pred"}], "partial", "timed_out", "error", "traceback"}`; a prediction whose
`pred` is not a string is written with `"pred": null, "pred_type": NAME`, an idx that is neither an int nor a
short str with `"idx": null, "idx_repr": REPR, "idx_type": NAME`, and an item that is no Prediction at all (a
dict, a string) as `"item_type": NAME`.
A watchdog thread writes what the journal holds at the deadline and exits the process, so a `solve` that never
returns, or a thread pool left running, cannot hold the run past its deadline. With `--journal`, every
Prediction is also appended to that file as it is made (mac.sdk.journal): if `solve` holds the GIL so that no
thread can run, the sandbox is killed at its wall clock and the controller reads the journal instead.
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
from mac.sdk.journal import encode
from mac.sdk.types import Problem

MAX_PREDICTIONS = 100_000
_MAC_BASE_NAMES = {"BaseAgent", "BaseAIMEAgent", "BaseScienceAgent", "BaseLCBAgent"}
_COMPAT_DIR = Path(__file__).resolve().parent / "compat"

_write_lock = threading.Lock()
_written = False


def _is_agent_class(obj: Any) -> bool:
    """A BaseAgent subclass, or (duck-typed) a class built on a copied MAC base of the same name."""
    if not inspect.isclass(obj):
        return False
    if issubclass(obj, BaseAgent):
        return True
    return any(base.__name__ in _MAC_BASE_NAMES for base in obj.__mro__[1:]) and callable(getattr(obj, "solve", None))


def _is_sdk_base(cls: type) -> bool:
    return cls.__name__ in _MAC_BASE_NAMES or cls.__module__.startswith("mac.sdk") or cls.__module__ == "base_agent"


def load_agent_class(agent_path: Path) -> type:
    """The single leaf agent class of `agent_path`: defined there, or (if none is) imported into it."""
    sys.path.insert(0, str(agent_path.parent))
    spec = importlib.util.spec_from_file_location("agent", agent_path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {agent_path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["agent"] = module
    spec.loader.exec_module(module)
    found = [obj for obj in vars(module).values() if _is_agent_class(obj)]
    candidates = [c for c in found if c.__module__ == module.__name__]
    if not candidates:
        candidates = [c for c in found if not _is_sdk_base(c)]
    leaves = [c for c in candidates if not any(o is not c and issubclass(o, c) for o in candidates)]
    leaves = [c for c in leaves if not inspect.isabstract(c)] or leaves
    if not leaves:
        raise RuntimeError(f"{agent_path.name} defines no agent class: subclass mac.sdk.BaseAgent "
                           "(or BaseAIMEAgent / BaseScienceAgent / BaseLCBAgent from base_agent) and implement solve()")
    if len(leaves) > 1:
        names = ", ".join(sorted(c.__name__ for c in leaves))
        raise RuntimeError(f"{agent_path.name} defines {len(leaves)} agent classes ({names}); keep exactly one")
    return leaves[0]


def build_agent(cls: type) -> Any:
    """Construct with the gateway's api_key/api_base/model, passing only the keywords `__init__` accepts."""
    offered = {
        "api_key": os.environ.get("TASK_MODEL_API_KEY", ""),
        "api_base": os.environ.get("TASK_MODEL_API_BASE", ""),
        "model": os.environ.get("TASK_MODEL_NAME", ""),
    }
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return cls(**offered)
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return cls(**offered)
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return cls(**{k: v for k, v in offered.items() if k in names})


def call_solve(agent: Any, problems: list[Problem], timeout: float) -> Any:
    """`solve(problems, timeout_sec)`; also accepts a `solve(problems)` that takes no timeout."""
    timeout_arg: float = int(timeout) if float(timeout).is_integer() else timeout
    try:
        params = [p for p in inspect.signature(agent.solve).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)]
    except (TypeError, ValueError):
        params = []
    if len(params) == 1 and params[0].kind is not params[0].VAR_POSITIONAL:
        return agent.solve(problems)
    return agent.solve(problems, timeout_arg)


def write_result(out: Path, predictions: list[Any], *, partial: bool, timed_out: bool, error: str | None = None,
                 tb: str | None = None) -> bool:
    """Write the result once; later calls (the watchdog racing a normal return) do nothing."""
    global _written
    with _write_lock:
        if _written:
            return False
        payload = {"predictions": [encode(p) for p in predictions[:MAX_PREDICTIONS]], "partial": partial,
                   "timed_out": timed_out, "error": error, "traceback": tb}
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(payload))
        os.replace(tmp, out)
        _written = True
        return True


def _watchdog(out: Path, timeout: float) -> None:
    threading.Event().wait(timeout)
    try:
        write_result(out, journal.snapshot(), partial=True, timed_out=True,
                     error=f"solve did not return within {timeout:g}s; kept the predictions made so far")
    finally:
        _flush_and_exit()


def _flush_and_exit() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - the artifact may have replaced or closed them
            pass
    os._exit(0)  # do not wait for thread pools or non-daemon threads the artifact left running


def _describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"[:2000]
    except Exception:  # noqa: BLE001 - an exception whose __str__ raises
        return type(exc).__name__


def _traceback_text() -> str | None:
    try:
        return traceback.format_exc()[-8000:]
    except Exception:  # noqa: BLE001
        return None


def load_problems(path: Path) -> list[Problem]:
    return [Problem.from_dict(row) for row in json.loads(path.read_text())]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mac.sdk.run")
    parser.add_argument("--agent", type=Path, required=True)
    parser.add_argument("--problems", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--journal", type=Path, default=None)
    args = parser.parse_args(argv)

    timing.set_deadline(args.timeout)
    if args.journal is not None:
        journal.open_file(args.journal)
    threading.Thread(target=_watchdog, args=(args.out, args.timeout), daemon=True).start()
    if str(_COMPAT_DIR) not in sys.path:
        sys.path.append(str(_COMPAT_DIR))  # `import base_agent` / `openai_helper` as in MAC
    problems = load_problems(args.problems)
    try:
        agent = build_agent(load_agent_class(args.agent))
        result = call_solve(agent, problems, args.timeout)
        if not isinstance(result, (list, tuple)):
            raise TypeError(f"solve returned {type(result).__name__}, expected a list of Prediction")
        write_result(args.out, list(result), partial=False, timed_out=False)
    except BaseException as exc:  # noqa: BLE001 - report anything the artifact raises, then exit
        write_result(args.out, journal.snapshot(), partial=True, timed_out=False, error=_describe(exc),
                     tb=_traceback_text())
    _flush_and_exit()
    return 0


if __name__ == "__main__":
    main()
