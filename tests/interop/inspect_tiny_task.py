"""A tiny Inspect AI task on the mac-bwrap sandbox (run by test_interop.py with Python >= 3.12):
    python inspect_tiny_task.py IMAGE_FOLDER LOG_DIR   -> prints {"status", "accuracy", "error"}"""

import json, sys
from inspect_ai import Task, eval, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import CORRECT, INCORRECT, Score, accuracy, scorer
from inspect_ai.solver import solver
from inspect_ai.util import sandbox


@solver
def write_answer():
    async def solve(state, generate):
        await sandbox().write_file("/app/notes/plan.txt", "write 42\n")
        await sandbox().exec(["sh", "-c", "cat /app/notes/plan.txt >/dev/null && echo 42 > /app/answer.txt"])
        return state
    return solve


@scorer(metrics=[accuracy()])
def check():
    async def score(state, target):
        text = await sandbox().read_file("/app/answer.txt")
        return Score(value=CORRECT if text.strip() == target.text else INCORRECT)
    return score


@task
def tiny():
    return Task(dataset=[Sample(input="write 42", target="42")], solver=write_answer(), scorer=check(),
                sandbox=("mac-bwrap", sys.argv[1]))


[log] = eval(tiny(), model="mockllm/model", log_dir=sys.argv[2], display="none")
print(json.dumps({"status": log.status, "accuracy": log.results.scores[0].metrics["accuracy"].value if log.results else None,
                  "error": str(log.error) if log.error else None}))
