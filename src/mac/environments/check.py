"""`mac task check`: a task is sound when its tests pass after its reference solution and fail without it.

Each check runs in fresh attempts: one with solution/ bound at /solution and solve.sh run, then the tests (the
environment is restarted, so nothing of the solution's processes survives); one with the tests alone.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel

from mac.environments.base import EnvBind, EnvironmentBackend
from mac.environments.task import Task, resolve_templates
from mac.environments.verify import SOLUTION_AT, TestOutcome, copy_for_environment, run_tests
from mac.errors import MacError
from mac.paths import scratch_home


class CheckResult(BaseModel):
    task: str
    with_solution: TestOutcome | None = None
    without_solution: TestOutcome | None = None
    solve_returncode: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return (self.error is None and self.with_solution is not None and self.with_solution.passed
                and self.without_solution is not None and not self.without_solution.passed)


async def run_phase(backend: EnvironmentBackend, task: Task, *, solve: bool) -> tuple[TestOutcome, int | None]:
    scratch = Path(tempfile.mkdtemp(prefix="check-", dir=scratch_home()))
    scratch.chmod(0o711)
    try:
        spec = task.environment_spec(f"check-{task.name}-{'solution' if solve else 'nosolution'}")
        solve_code = None
        if solve:
            solution = copy_for_environment(task.solution_dir, scratch / "solution")
            spec = spec.model_copy(update={"binds": [EnvBind(src=solution, dst=SOLUTION_AT)]})
        env = await backend.start(spec)
        async with env:
            if solve:
                result = await env.exec([f"{SOLUTION_AT}/solve.sh"], env=resolve_templates(task.config.solution.env),
                                        timeout=task.config.agent.timeout_sec or 600.0)
                solve_code = result.returncode
            return await run_tests(env, task, scratch), solve_code
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


async def check_task(backend: EnvironmentBackend, task: Task) -> CheckResult:
    if not (task.solution_dir / "solve.sh").is_file():
        return CheckResult(task=task.name, error="no solution/solve.sh")
    try:
        with_solution, code = await run_phase(backend, task, solve=True)
        without_solution, _ = await run_phase(backend, task, solve=False)
    except MacError as exc:
        return CheckResult(task=task.name, error=str(exc))
    return CheckResult(task=task.name, with_solution=with_solution, without_solution=without_solution,
                       solve_returncode=code)
