"""Prepare a meta-agent's workspace: the instruction, SDK docs, the dev questions (never the answers)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from collections.abc import Callable
from typing import Any

from mac.config import Budget, TaskModelSpec
from mac.domains.base import Domain, InstructionContext
from mac.records import Record
from mac.store.atomic import write_text_atomic

EVAL_PORT = 8001
GATEWAY_PORT = 8000

SDK_MD = """# The artifact SDK (`mac.sdk`)

Your artifact is `agent.py` in this folder, with exactly one subclass of `mac.sdk.BaseAgent`:

```python
from mac.sdk import BaseAgent, ModelClient, Prediction, Problem, remaining

class Agent(BaseAgent):
    def solve(self, problems: list[Problem], timeout_sec: float) -> list[Prediction]:
        client = ModelClient()   # the task model, through the gateway (configured from the environment)
        return [Prediction(p.idx, client.chat([{"role": "user", "content": p.question}])) for p in problems]
```

- `Problem(idx, question, choices, extra)`: `choices` holds "A) ..." strings for multiple choice.
- `Prediction(idx, pred)`: `pred` is a string. Predictions made before the deadline count even if `solve`
  never returns; `remaining()` tells the seconds left.
- `ModelClient().complete(messages, temperature=, n=, max_tokens=) -> list[str]` and `.chat(...) -> str`;
  an unmodified OpenAI client works too (`TASK_MODEL_API_BASE`, `TASK_MODEL_API_KEY`, `TASK_MODEL_NAME`).
- MAC compatibility: `from base_agent import BaseAIMEAgent, BaseScienceAgent, BaseLCBAgent, Problem,
  Prediction` and `from openai_helper import OpenAIHelper` work unchanged (for LCB, `idx` is the problem's
  string id and the problem's fields are attributes: `p.starter_code`, `p.fn_name`).
- The artifact runs in a fresh sandbox on a snapshot of this folder: its only network is the task-model
  gateway; it may import the standard library, `openai` and `mac.sdk`; symlinks are not copied.

# The evaluation API (`EVALUATION_API_URL`)

- `POST /evaluate/agent {"agent_file": "agent.py", "split": "eval", "timeout": 600, "first_k": null,
  "kill_running": false}` runs the file on the dev split and answers `success, accuracy (0-100), correct,
  total, scores, missing_predictions, detailed_results, predictions_content, partial, timed_out, run_id,
  usage`. One evaluation at a time (409 otherwise). The test split is never available (403).
- `GET /budget`: development time left and the model quota left. `GET /info`: this contract.
- Evaluations spend the same model quota as your own calls.
"""


def model_readme(spec: TaskModelSpec, extra: str | None = None) -> str:
    lines = [
        "# The task model", "",
        f"- name: `{spec.name}` (send any model name; the gateway uses this one)",
        "- endpoint: `TASK_MODEL_API_BASE` (OpenAI-compatible chat completions), key: `TASK_MODEL_API_KEY`",
        "- quota: see `GET /budget` on the evaluation API; a refused request answers 429 naming the limit",
    ]
    if spec.simulated:
        lines.append("- this is `sim`, a SIMULATED model for offline runs: scores made with it are labelled simulated")
    if extra:
        lines += ["", extra.strip()]
    return "\n".join(lines) + "\n"


def dev_problems(domain: Domain, records: list[Record]) -> list[dict[str, Any]]:
    """The dev questions as the artifact will see them: idx, question, choices, extra. Never the answers."""
    return [domain.problem(idx, record).to_dict() for idx, record in enumerate(records)]


def instruction_context(budget: Budget, n_dev: int, spec: TaskModelSpec) -> InstructionContext:
    return InstructionContext(budget=budget, n_dev=n_dev, task_model=spec.name,
                              evaluation_api_url=f"http://127.0.0.1:{EVAL_PORT}", simulated=spec.simulated)


def prepare_workspace(workspace: Path, domain: Domain, dev_records: list[Record], budget: Budget,
                      spec: TaskModelSpec, model_notes: str | None = None, *, overwrite: bool = True) -> str:
    """Write instruction.md, SDK.md, MODEL.md and dev_problems.json into `workspace`; returns the instruction.
    `overwrite=False` (a resumed trial) writes only the missing ones: the workspace stays as the meta-agent left it."""
    workspace.mkdir(parents=True, exist_ok=True)
    instruction = domain.instruction(instruction_context(budget, len(dev_records), spec))
    files: dict[str, Callable[[], str]] = {"instruction.md": lambda: instruction, "SDK.md": lambda: SDK_MD,
             "MODEL.md": lambda: model_readme(spec, model_notes),
             "dev_problems.json": lambda: json.dumps(dev_problems(domain, dev_records), ensure_ascii=False, indent=1)}
    for name, text in files.items():
        target = workspace / name
        if overwrite or not (target.exists() or target.is_symlink()):
            write_text_atomic(target, text())
    return instruction


def reachable_by_sandbox_uids(path: Path) -> bool:
    """Can an unprivileged sandbox uid traverse every folder above `path`? (bwrap binds as that uid.)

    Always true when the controller is not root: its sandboxes run as the controller's own user.
    """
    if os.geteuid() != 0:
        return True
    for folder in Path(path).resolve().parents:
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return False
    return True


def live_workspace(trial_workspace: Path, scratch: Path) -> Path:
    """Where the meta-agent works: the trial's own `workspace/` when sandbox uids can reach it, else a folder in
    the (world-traversable) scratch area, copied back into the trial folder at the freeze."""
    if reachable_by_sandbox_uids(trial_workspace):
        return trial_workspace
    folder = scratch / "workspace"
    folder.mkdir(exist_ok=True)
    return folder
