"""`mac run`: a job of trials (one per seed), run concurrently with a live progress display.

Every flag is a key of the job spec (mac.trial.jobspec.JobSpec); `-c job.toml` and `-c key=value` give the
same keys, and flags win over them."""

from __future__ import annotations

import asyncio
import json
import shlex
import signal
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from mac.cli import app
from mac.cli.common import console, err_console, handle_errors, print_outcome, print_preflight, report_console
from mac.config import Budget, Quota
from mac.errors import ConfigError
from mac.paths import jobs_home
from mac.store.models import TrialConfig, TrialResult
from mac.store.paths import JobPaths
from mac.textsafe import for_markup
from mac.trial.outcome import meta_agent_exit_text, run_exit_code
from mac.trial.progress import TrialProgress

SIMULATED_NOTE = "[bold yellow]SIMULATED[/]: task model `sim` (an offline stand-in); these scores say nothing about real models."
RESUME_KEYS = ("seeds", "concurrency", "jobs_dir", "executor", "ray_address", "ray_shared_fs")
"""What `--resume` may change: seeds (add the missing ones), -n, --jobs-dir and where trials run (--executor,
--ray-address, --ray-shared-fs: scores do not depend on it); the rest is the stored spec's."""


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def progress_table(progress: dict[str, TrialProgress], title: str = "") -> Table:
    table = Table(title=title or None, expand=False)
    for column in ("trial", "phase", "time left", "best dev", "evals", "model requests", "tokens", "test"):
        table.add_column(column, justify="left" if column in ("trial", "phase") else "right")
    for name, p in progress.items():
        usage = p.usage()
        phase = p.phase if p.status != "failed" else f"[red]{p.phase} (failed)[/]"
        table.add_row(name, phase, _fmt_time(p.time_left()), _pct(p.best_dev), str(p.dev_evals),
                      str(usage.requests), str(usage.input_tokens + usage.output_tokens), _pct(p.test))
    return table


def summary_table(results: list[TrialResult], title: str = "Results") -> Table:
    table = Table(title=title)
    for column in ("trial", "meta-agent", "seed", "best dev", "test", "correct", "dev evals", "dev requests",
                   "meta-agent exit", "integrity", "status"):
        table.add_column(column, justify="left" if column in ("trial", "meta-agent", "integrity", "status") else "right")
    for r in results:
        test = r.test
        status = r.status if r.reason is None else f"{r.status}: {r.reason}"
        table.add_row(r.trial, for_markup(r.meta_agent_label), str(r.seed), _pct(r.best_dev.accuracy if r.best_dev else None),
                      _pct(test.accuracy if test else None), f"{test.correct}/{test.total}" if test else "-",
                      str(r.dev_evals), str(r.budget_use.dev_usage.requests), meta_agent_exit_text(r),
                      r.integrity_verdict or "-", for_markup(status, limit=80))
    return table


def describe_quota(quota: Quota) -> str:
    parts = [f"{value:,} {label}" for value, label in (
        (quota.requests, "requests"), (quota.input_tokens, "input tokens"), (quota.output_tokens, "output tokens"),
        (quota.concurrent, "concurrent"), (quota.rpm, "rpm"), (quota.tpm, "tpm")) if value is not None]
    if quota.cost_usd is not None:
        parts.append(f"${quota.cost_usd:g}")
    return ", ".join(parts) or "unlimited"


def describe_budget(budget: Budget) -> str:
    """One line: the times and quotas every trial of a job gets."""
    return (f"development {budget.dev_time_sec:g}s (quota: {describe_quota(budget.dev_quota)}), dev evaluations "
            f"<= {budget.eval_timeout_sec:g}s, verification {budget.verify_timeout_sec:g}s (quota: "
            f"{describe_quota(budget.verify_quota)})")


async def _watch(progress: dict[str, TrialProgress], task: asyncio.Task, out: Console) -> None:
    """Live table on a terminal; one line per phase change otherwise (logs, CI)."""
    if out.is_terminal:
        with Live(progress_table(progress), console=out, refresh_per_second=2, transient=True) as live:
            while not task.done():
                live.update(progress_table(progress))
                await asyncio.sleep(0.5)
        return
    seen: dict[str, str] = {}

    def print_changes() -> None:
        for name, p in progress.items():
            if seen.get(name) != p.phase:
                seen[name] = p.phase
                out.print(f"{time.strftime('%H:%M:%S')} {name}: {p.phase}")

    while not task.done():
        print_changes()
        await asyncio.sleep(0.5)
    print_changes()  # the last trials' "done"


async def run_with_display(job: JobPaths, configs: list[TrialConfig], concurrency: int, resume: bool = False, *,
                           spec: Any = None, seeds: int | None = None, retry_failed: bool = False,
                           out: Console | None = None, executor: Any = None) -> list[TrialResult]:
    """Run `configs` as `job` (or, with `resume`, continue the job from its folder, adding `seeds` and, with
    `retry_failed`, running its failed trials again) under the live display (on `out`, the terminal by default)."""
    from mac.trial.job import resume_job, run_job

    progress: dict[str, TrialProgress] = {}
    for c in configs:
        progress[c.trial] = TrialProgress(c.trial, meta_agent=c.meta_agent, seed=c.seed)
    work = resume_job(job, concurrency=concurrency, progress=progress, seeds=seeds, retry_failed=retry_failed,
                      executor=executor) if resume else \
        run_job(job, configs, concurrency=concurrency, progress=progress, spec=spec, executor=executor)
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    loop.add_signal_handler(signal.SIGTERM, lambda: me.cancel() if me else None)  # like Ctrl-C: stop, save, exit
    try:
        await _watch(progress, task, out or console)
        return await task
    except asyncio.CancelledError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)  # every trial saves itself as interrupted first
        raise
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def run_job_cli(job: JobPaths, configs: list[TrialConfig], concurrency: int, resume: bool = False, *,
                spec: Any = None, seeds: int | None = None, retry_failed: bool = False,
                out: Console | None = None, executor: Any = None) -> list[TrialResult]:
    """`run_with_display` for a command; Ctrl-C or SIGTERM end it with exit code 130 and the resume command."""
    try:
        return asyncio.run(run_with_display(job, configs, concurrency, resume=resume, spec=spec, seeds=seeds,
                                            retry_failed=retry_failed, out=out, executor=executor))
    except (KeyboardInterrupt, asyncio.CancelledError):
        err_console.print(f"[bold yellow]interrupted:[/] unfinished trials were saved as interrupted; continue "
                          f"with: mac run --resume {shlex.quote(str(job.dir))}", soft_wrap=True)
        raise typer.Exit(130) from None


FLAGS: dict[str, str] = {
    "domain": "--domain", "meta_agent": "--meta-agent", "seeds": "--seeds", "task_model": "--task-model",
    "base_url": "--base-url", "price_input_per_mtok": "--price-input", "price_output_per_mtok": "--price-output",
    "max_output_tokens": "--max-output-tokens", "budget.preset": "--budget", "budget.dev_time": "--dev-time",
    "budget.eval_timeout": "--eval-timeout",
    "budget.verify_timeout": "--verify-timeout", "budget.dev_requests": "--dev-requests",
    "budget.verify_requests": "--verify-requests", "budget.dev_cost_usd": "--dev-cost",
    "budget.verify_cost_usd": "--verify-cost", "jobs_dir": "--jobs-dir", "job": "--job", "concurrency": "-n",
    "meta_agent_options.command": "--command", "meta_agent_options.mounts": "--mount",
    "meta_agent_options.baseline": "--baseline", "meta_agent_options.model": "--meta-model",
    "meta_agent_options.base_url": "--meta-base-url", "meta_agent_options.egress_allow": "--egress-allow",
    "data": "--data", "sandbox": "--sandbox", "auditor_model": "--auditor-model",
    "auditor_base_url": "--auditor-base-url", "test_seed_file": "--test-seed-file",
    "max_upstream_error_rate": "--max-upstream-error-rate", "executor": "--executor", "ray_address": "--ray-address",
    "ray_shared_fs": "--ray-shared-fs",
}
"""Job-spec key -> the flag of `mac run` that sets it."""


@app.command()
@handle_errors
def run(
    config: list[str] | None = typer.Option(
        None, "-c", "--config", metavar="FILE|KEY=VALUE", help="A job file (TOML or JSON) or KEY=VALUE with dotted keys "
        "(e.g. budget.dev_time=60); "
        "repeatable, merged in order; flags win."),
    domain: str | None = typer.Option(None, "--domain", "-d", help="Domain: arith, aime, science, ... (required "
                                         "unless a job file or --resume gives it)."),
    meta_agent: str | None = typer.Option(None, "--meta-agent", "-m",
                                             help="reference (default), command, baseline, claude-code, ..."),
    seeds: int | None = typer.Option(None, "--seeds", min=1, help="Number of trials, seeds 0..N-1 (default 1). "
                                        "With --resume: run the seeds the job lacks, up to N."),
    task_model: str | None = typer.Option(None, "--task-model", help="'sim' (default) or 'openai:MODEL_NAME'."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible upstream for openai:NAME."),
    price_input: float | None = typer.Option(None, "--price-input", help="Task-model USD per million input "
                                                "tokens (meters the cost quotas)."),
    price_output: float | None = typer.Option(None, "--price-output", help="Task-model USD per million output "
                                                 "tokens."),
    max_output_tokens: int | None = typer.Option(None, "--max-output-tokens", min=1, help="The task model's "
                                                    "output limit per reply (default 32768): reserved against token "
                                                    "and cost quotas for a request naming no max_tokens."),
    budget: str | None = typer.Option(None, "--budget", help="Preset: full (the domain's; default), demo, smoke."),
    dev_time: float | None = typer.Option(None, "--dev-time", help="Development seconds."),
    eval_timeout: float | None = typer.Option(None, "--eval-timeout", help="Max seconds of one dev evaluation."),
    verify_timeout: float | None = typer.Option(None, "--verify-timeout", help="Seconds of the test run."),
    dev_requests: int | None = typer.Option(None, "--dev-requests", help="Dev model quota in requests."),
    verify_requests: int | None = typer.Option(None, "--verify-requests", help="Verify quota in requests."),
    dev_cost: float | None = typer.Option(None, "--dev-cost", help="Dev spend cap in USD (needs the prices)."),
    verify_cost: float | None = typer.Option(None, "--verify-cost", help="Verify spend cap in USD."),
    jobs_dir: Path | None = typer.Option(None, "--jobs-dir", help="Where job folders go (default ./jobs)."),
    job: str | None = typer.Option(None, "--job", help="Job name (default: time + domain + meta-agent)."),
    concurrent: int | None = typer.Option(None, "-n", "--concurrent", min=1, help="Trials at once (default 2)."),
    command: str | None = typer.Option(None, "--command", help="The command line of --meta-agent command."),
    mount: list[str] | None = typer.Option(None, "--mount", metavar="DIR", help="A host folder shown read-only at the same path "
                                              "in the meta-agent's sandbox (--meta-agent command; repeatable)."),
    baseline: str | None = typer.Option(None, "--baseline", help="naive or strong, for --meta-agent baseline."),
    data: Path | None = typer.Option(None, "--data", help="Domain data folder (dev.jsonl, test.jsonl)."),
    sandbox: str | None = typer.Option(None, "--sandbox", help="Isolation backend (default bwrap)."),
    meta_model: str | None = typer.Option(None, "--meta-model", help="The meta-agent's own model (real tools)."),
    meta_base_url: str | None = typer.Option(None, "--meta-base-url", help="Endpoint of --meta-model."),
    egress_allow: list[str] | None = typer.Option(None, "--egress-allow", metavar="HOST[:PORT]",
                                                     help="Replace the meta-agent's egress allowlist (repeatable)."),
    auditor_model: str | None = typer.Option(None, "--auditor-model",
                                                help="LLM auditor, openai:MODEL_NAME (default: the rules alone)."),
    auditor_base_url: str | None = typer.Option(None, "--auditor-base-url",
                                                   help="OpenAI-compatible base URL of --auditor-model."),
    test_seed_file: Path | None = typer.Option(None, "--test-seed-file", help="Pin arith's secret test seed "
                                                  "(a 0600 file, created if missing; default: this install's)."),
    as_json: bool = typer.Option(False, "--json", help="Print the job and its trial results as one JSON object."),
    max_upstream_error_rate: float | None = typer.Option(
        None, "--max-upstream-error-rate", help="Share of task-model calls failing upstream (in any phase) above "
        "which a trial is an infrastructure_error: score kept, not counted (default 0.2)."),
    resume: str | None = typer.Option(None, "--resume", help="Continue the interrupted job JOB (its name, or "
                                         "its folder): finished trials kept, the others resumed."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="With --resume: also run failed and "
                                      "infrastructure_error trials again (earlier attempts kept in retried/)."),
    executor: str | None = typer.Option(None, "--executor", help="Where trials run: local (default) or ray "
                                           "(needs pip install 'mac-bench[ray]')."),
    ray_address: str | None = typer.Option(None, "--ray-address", help="With --executor ray: auto, "
                                              "ray://HOST:PORT or HOST:PORT (default: start a Ray on this machine)."),
    ray_shared_fs: bool | None = typer.Option(None, "--ray-shared-fs", help="With --executor ray: the jobs "
                                                 "folder is the same path on every node (no streaming)."),
) -> None:
    """Run a job: META_AGENT on DOMAIN for N seeds, then verify each frozen artifact on the test split.

    `--resume JOB` continues a job whose controller died, with the job's stored settings (only --seeds, -n,
    --jobs-dir, --retry-failed and where trials run, --executor and --ray-*, apply).
    Model endpoints are checked before anything runs. Exit code 0: every
    trial ran cleanly; 1: a trial, an artifact or the infrastructure failed; 2: bad usage or a failed endpoint
    check; 130: interrupted."""
    given = {"domain": domain, "meta_agent": meta_agent, "seeds": seeds, "task_model": task_model,
             "base_url": base_url, "price_input_per_mtok": price_input, "price_output_per_mtok": price_output,
             "max_output_tokens": max_output_tokens, "budget.preset": budget, "budget.dev_time": dev_time,
             "budget.eval_timeout": eval_timeout,
             "budget.verify_timeout": verify_timeout, "budget.dev_requests": dev_requests,
             "budget.verify_requests": verify_requests, "budget.dev_cost_usd": dev_cost,
             "budget.verify_cost_usd": verify_cost, "jobs_dir": jobs_dir, "job": job, "concurrency": concurrent,
             "meta_agent_options.command": command, "meta_agent_options.mounts": mount,
             "meta_agent_options.baseline": baseline, "meta_agent_options.model": meta_model,
             "meta_agent_options.base_url": meta_base_url, "meta_agent_options.egress_allow": egress_allow,
             "data": data, "sandbox": sandbox, "auditor_model": auditor_model, "auditor_base_url": auditor_base_url,
             "test_seed_file": test_seed_file, "max_upstream_error_rate": max_upstream_error_rate,
             "executor": executor, "ray_address": ray_address, "ray_shared_fs": ray_shared_fs}
    overrides = {k: str(v) if isinstance(v, Path) else v for k, v in given.items() if v is not None and v != []}
    if resume is not None:
        _resume(resume, config or [], overrides, as_json, retry_failed)
        return
    if retry_failed:
        raise ConfigError("--retry-failed goes with --resume JOB (it re-runs that job's failed trials)")
    _run_new(config or [], overrides, as_json)


def _run_new(sources: list[str], overrides: dict[str, Any], as_json: bool) -> None:
    from mac.trial.checks import preflight_trials
    from mac.trial.jobfile import load_job_spec
    from mac.trial.jobcheck import prepare_spec
    from mac.trial.jobspec import trial_configs

    spec = prepare_spec(load_job_spec(sources, overrides, FLAGS))
    if spec.executor == "ray":
        from mac.trial.executors.ray import import_ray

        import_ray()  # a missing extra fails here, before anything is made
    configs = trial_configs(spec)
    paths = JobPaths(Path(str(spec.jobs_dir)), str(spec.job))
    if paths.job_json.exists():
        raise ConfigError(f"job {spec.job!r} already exists in {paths.dir}: choose another --job name, or continue "
                          f"it with: mac run --resume {spec.job}")
    print_preflight(preflight_trials(configs))  # a dead endpoint or a bad key fails here, before any job folder
    out = err_console if as_json else console
    if not out.is_terminal:
        out.print(f"budget per trial: {describe_budget(configs[0].budget)}", soft_wrap=True, markup=False)
    results = run_job_cli(paths, configs, spec.concurrency, spec=spec, out=out)
    _finish(paths, results, f"Job {spec.job}", as_json, spec.model_dump(mode="json"))


def _resume(job: str, sources: list[str], overrides: dict[str, Any], as_json: bool, retry_failed: bool) -> None:
    from mac.trial.checks import preflight_resume, preflight_trials
    from mac.trial.job import added_seed_configs, find_job, read_job_json, saved_configs, stored_spec
    from mac.trial.resume import plan_trial

    refused = ([f"-c {s}" for s in sources] + [FLAGS.get(k, k) for k in overrides if k not in RESUME_KEYS])
    if refused:
        raise ConfigError(f"--resume continues the job with its stored settings: drop {', '.join(refused)} (only "
                          "--seeds, -n, --jobs-dir, --retry-failed, --executor and --ray-* apply; to change settings, start a new "
                          "job)")
    paths = find_job(job, Path(overrides.get("jobs_dir") or jobs_home()))
    spec = stored_spec(paths)
    executor = _resume_executor(spec, overrides)
    seeds = overrides.get("seeds")
    configs = saved_configs(paths)
    added = added_seed_configs(paths, seeds)
    concurrency = overrides.get("concurrency") or (spec.concurrency if spec else read_job_json(paths).get(
        "concurrency", 2))
    out = err_console if as_json else console
    plans = [plan_trial(paths.trial(c.trial), c, retry_failed=retry_failed) for c in configs]
    for plan in plans:
        out.print(f"{plan.trial}: {plan.policy} ({plan.why})", markup=False)
    for config in added:
        out.print(f"{config.trial}: start-over (a seed added with --seeds {seeds})", markup=False)
    print_preflight(preflight_resume(configs, plans) + (preflight_trials(added) if added else []))
    if not out.is_terminal and configs:
        out.print(f"budget per trial: {describe_budget(configs[0].budget)}", soft_wrap=True, markup=False)
    results = run_job_cli(paths, configs + added, concurrency, resume=True, seeds=seeds, retry_failed=retry_failed,
                          out=out, executor=executor(concurrency))
    _finish(paths, results, f"Job {paths.job} (resumed)", as_json, spec.model_dump(mode="json") if spec else None)


def _resume_executor(spec: Any, overrides: dict[str, Any]) -> Any:
    """A maker of the executor a resume runs on: the stored spec's, with --executor/--ray-* applied."""
    from mac.trial.executors import make_executor
    from mac.trial.jobspec import JobSpec, validation_message

    where = {k: overrides[k] for k in ("executor", "ray_address", "ray_shared_fs") if k in overrides}
    base = spec.model_dump() if spec is not None else {"domain": "-"}
    try:
        merged = JobSpec.model_validate({**base, **where}) if where or spec is not None else None
    except ValueError as exc:
        raise ConfigError(f"--resume: {validation_message(exc, FLAGS)}") from None
    if merged is not None and merged.executor == "ray":
        from mac.trial.executors.ray import import_ray

        import_ray()
    return lambda concurrency: make_executor(merged, concurrency)


def _finish(paths: JobPaths, results: list[TrialResult], title: str, as_json: bool,
            spec: dict[str, Any] | None) -> None:
    simulated = any(r.simulated for r in results)
    if as_json:
        print(json.dumps({"job": paths.job, "dir": str(paths.dir), "simulated": simulated, "spec": spec,
                          "trials": [r.model_dump(mode="json") for r in results]}, ensure_ascii=False))
    else:
        out = report_console()
        out.print(summary_table(results, title=title))
        if simulated:
            out.print(SIMULATED_NOTE)
        out.print(f"Files: {paths.dir}", markup=False)
        print_outcome(out, results)
    raise typer.Exit(run_exit_code(results))
