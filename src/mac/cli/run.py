"""`mac run`: a job of trials (one per seed), run concurrently with a live progress display."""

from __future__ import annotations

import asyncio
import shlex
import signal
import time
from pathlib import Path
from typing import Optional

import typer
from rich.live import Live
from rich.table import Table

from mac.cli import app
from mac.cli.common import console, err_console, handle_errors, report_console, task_model_option
from mac.config import Budget
from mac.errors import ConfigError
from mac.paths import jobs_home
from mac.store.models import TrialConfig, TrialResult
from mac.store.paths import JobPaths
from mac.textsafe import for_markup
from mac.trial.progress import TrialProgress

SIMULATED_NOTE = "[bold yellow]SIMULATED[/]: task model `sim` (an offline stand-in); these scores say nothing about real models."


def build_budget(domain: str, preset: str, **overrides) -> Budget:
    from mac.domains.base import get_domain
    from mac.trial.budgets import budget_preset, override_budget

    return override_budget(budget_preset(preset, get_domain(domain).default_budget()), **overrides)


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
                   "integrity", "status"):
        table.add_column(column, justify="left" if column in ("trial", "meta-agent", "integrity", "status") else "right")
    for r in results:
        test = r.test
        status = r.status if r.reason is None else f"{r.status}: {r.reason}"
        table.add_row(r.trial, for_markup(r.meta_agent_label), str(r.seed), _pct(r.best_dev.accuracy if r.best_dev else None),
                      _pct(test.accuracy if test else None), f"{test.correct}/{test.total}" if test else "-",
                      str(r.dev_evals), str(r.budget_use.dev_usage.requests), r.integrity_verdict or "-", for_markup(status, limit=80))
    return table


async def _watch(progress: dict[str, TrialProgress], task: asyncio.Task) -> None:
    """Live table on a terminal; one line per phase change otherwise (logs, CI)."""
    if console.is_terminal:
        with Live(progress_table(progress), console=console, refresh_per_second=2, transient=True) as live:
            while not task.done():
                live.update(progress_table(progress))
                await asyncio.sleep(0.5)
        return
    seen: dict[str, str] = {}

    def print_changes() -> None:
        for name, p in progress.items():
            if seen.get(name) != p.phase:
                seen[name] = p.phase
                console.print(f"{time.strftime('%H:%M:%S')} {name}: {p.phase}")

    while not task.done():
        print_changes()
        await asyncio.sleep(0.5)
    print_changes()  # the last trials' "done"


async def run_with_display(job: JobPaths, configs: list[TrialConfig], concurrency: int,
                           resume: bool = False) -> list[TrialResult]:
    """Run `configs` as `job` (or, with `resume`, continue the job from its folder) under the live display."""
    from mac.trial.job import resume_job, run_job

    progress: dict[str, TrialProgress] = {}
    for c in configs:
        progress[c.trial] = TrialProgress(c.trial, meta_agent=c.meta_agent, seed=c.seed)
    work = resume_job(job, concurrency=concurrency, progress=progress) if resume else \
        run_job(job, configs, concurrency=concurrency, progress=progress)
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)  # like Ctrl-C: stop, save, exit
    try:
        await _watch(progress, task)
        return await task
    except asyncio.CancelledError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)  # every trial saves itself as interrupted first
        raise
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def run_job_cli(job: JobPaths, configs: list[TrialConfig], concurrency: int, resume: bool = False) -> list[TrialResult]:
    """`run_with_display` for a command; Ctrl-C or SIGTERM end it with exit code 130 and the resume command."""
    try:
        return asyncio.run(run_with_display(job, configs, concurrency, resume=resume))
    except (KeyboardInterrupt, asyncio.CancelledError):
        err_console.print(f"[bold yellow]interrupted:[/] unfinished trials were saved as interrupted; continue "
                          f"with: mac run --resume {shlex.quote(str(job.dir))}", soft_wrap=True)
        raise typer.Exit(130) from None


def meta_agent_options(meta_agent: str, command: str | None, baseline: str | None, meta_model: str | None = None,
                       meta_base_url: str | None = None, egress_allow: list[str] | None = None) -> tuple[dict, str]:
    """(adapter options, trial-name suffix)."""
    real = {"model": meta_model, "base_url": meta_base_url, "egress_allow": egress_allow or None}
    real = {k: v for k, v in real.items() if v is not None}
    if real:  # adapters of real tools (mac.metaagents.cliagent) take these; others refuse them with a ConfigError
        return real, ""
    if meta_agent == "command":
        return {"command": command}, ""
    if command:
        raise ConfigError("--command is only for --meta-agent command")
    if meta_agent == "baseline":
        return {"baseline": baseline or "naive"}, f"-{baseline or 'naive'}"
    if baseline:
        raise ConfigError("--baseline is only for --meta-agent baseline")
    return {}, ""


def check_inputs(domain: str, data: Path | None, sandbox: str, test_seed_file: Path | None = None) -> None:
    """Fail before any job folder exists: both splits must load and the sandbox backend must be known."""
    from mac.domains.base import get_domain
    from mac.domains.testseed import seed_for
    from mac.sandbox.registry import backend_names

    if sandbox not in backend_names():
        raise ConfigError(f"unknown sandbox backend {sandbox!r}; known: {', '.join(backend_names())}")
    plugin = get_domain(domain)
    seed = seed_for(plugin, data, test_seed_file)
    plugin.load("dev", data)
    plugin.load("test", data, seed=seed)


@app.command()
@handle_errors
def run(
    domain: Optional[str] = typer.Option(None, "--domain", "-d", help="Domain: arith, aime, science, ... (required "
                                         "unless --resume)."),
    meta_agent: str = typer.Option("reference", "--meta-agent", "-m", help="reference, command, baseline, ..."),
    seeds: int = typer.Option(1, "--seeds", min=1, help="Number of trials (seeds 0..N-1)."),
    task_model: str = typer.Option("sim", "--task-model", help="'sim' or 'openai:MODEL_NAME'."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible upstream for openai:NAME."),
    budget: str = typer.Option("full", "--budget", help="Preset: full (the domain's), demo, smoke."),
    dev_time: Optional[float] = typer.Option(None, "--dev-time", help="Development seconds."),
    eval_timeout: Optional[float] = typer.Option(None, "--eval-timeout", help="Max seconds of one dev evaluation."),
    verify_timeout: Optional[float] = typer.Option(None, "--verify-timeout", help="Seconds of the test run."),
    dev_requests: Optional[int] = typer.Option(None, "--dev-requests", help="Dev model quota in requests."),
    verify_requests: Optional[int] = typer.Option(None, "--verify-requests", help="Verify quota in requests."),
    jobs_dir: Optional[Path] = typer.Option(None, "--jobs-dir", help="Where job folders go (default ./jobs)."),
    job: Optional[str] = typer.Option(None, "--job", help="Job name (default: time + domain + meta-agent)."),
    concurrent: int = typer.Option(2, "-n", "--concurrent", min=1, help="Trials at once."),
    command: Optional[str] = typer.Option(None, "--command", help="The command line of --meta-agent command."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="naive or strong, for --meta-agent baseline."),
    data: Optional[Path] = typer.Option(None, "--data", help="Domain data folder (dev.jsonl, test.jsonl)."),
    sandbox: str = typer.Option("bwrap", "--sandbox", help="Isolation backend."),
    test_seed_file: Optional[Path] = typer.Option(None, "--test-seed-file", help="Secret seed of a generated test "
                                                  "split (arith); created if missing (default: this install's)."),
    meta_model: Optional[str] = typer.Option(None, "--meta-model", help="The meta-agent's own model (real tools)."),
    meta_base_url: Optional[str] = typer.Option(None, "--meta-base-url", help="Endpoint of --meta-model."),
    egress_allow: Optional[list[str]] = typer.Option(None, "--egress-allow",
                                                     help="Replace the meta-agent's egress allowlist (repeatable)."),
    auditor_model: Optional[str] = typer.Option(None, "--auditor-model",
                                                help="LLM auditor, openai:MODEL_NAME (default: the rules alone)."),
    auditor_base_url: Optional[str] = typer.Option(None, "--auditor-base-url",
                                                   help="OpenAI-compatible base URL of --auditor-model."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Continue the interrupted job JOB (its name, or "
                                         "its folder): finished trials kept, the others resumed."),
) -> None:
    """Run a job: META_AGENT on DOMAIN for N seeds, then verify each frozen artifact on the test split.

    `--resume JOB` continues a job whose controller died (the job's own settings; only -n and --jobs-dir apply)."""
    from mac.metaagents import get_metaagent
    from mac.trial.job import default_job_name, job_configs

    if resume is not None:
        _resume(resume, jobs_dir, concurrent)
        return
    if domain is None:
        raise ConfigError("--domain is required: mac run --domain arith (or continue a job with --resume JOB)")
    options, suffix = meta_agent_options(meta_agent, command, baseline, meta_model, meta_base_url, egress_allow)
    get_metaagent(meta_agent, **options)  # unknown names and bad options fail here, before any trial starts
    spec = task_model_option(task_model, base_url)
    check_inputs(domain, data, sandbox, test_seed_file)
    plan = build_budget(domain, budget, dev_time=dev_time, eval_timeout=eval_timeout, verify_timeout=verify_timeout,
                        dev_requests=dev_requests, verify_requests=verify_requests)
    name = job or default_job_name(f"{domain}-{meta_agent}{suffix}")
    configs = job_configs(job=name, domain=domain, meta_agent=meta_agent, seeds=seeds, task_model=spec, budget=plan,
                          meta_agent_options=options, data=str(data.resolve()) if data else None, sandbox=sandbox,
                          suffix=suffix, test_seed_file=test_seed_file.resolve() if test_seed_file else None)
    if auditor_model:
        from mac.audit import AuditorConfig

        AuditorConfig.parse(auditor_model, auditor_base_url)  # a malformed name fails here, before any trial
        for config in configs:
            config.auditor, config.auditor_base_url = auditor_model, auditor_base_url
    elif auditor_base_url:
        raise ConfigError("--auditor-base-url needs --auditor-model openai:MODEL_NAME")
    paths = JobPaths((jobs_dir or jobs_home()).resolve(), name)
    if paths.job_json.exists():
        raise ConfigError(f"job {name!r} already exists in {paths.dir}: choose another --job name, or continue it "
                          f"with: mac run --resume {name}")
    results = run_job_cli(paths, configs, concurrent)
    out = report_console()
    out.print(summary_table(results, title=f"Job {name}"))
    if spec.simulated:
        out.print(SIMULATED_NOTE)
    out.print(f"Files: {paths.dir}")
    if any(r.status != "completed" for r in results):
        raise typer.Exit(1)


def _resume(job: str, jobs_dir: Path | None, concurrent: int) -> None:
    from mac.trial.job import find_job, saved_configs
    from mac.trial.resume import plan_trial

    paths = find_job(job, jobs_dir or jobs_home())
    configs = saved_configs(paths)
    out = report_console()
    for config in configs:
        plan = plan_trial(paths.trial(config.trial), config)
        out.print(f"{config.trial}: {plan.policy} ({plan.why})")
    results = run_job_cli(paths, configs, concurrent, resume=True)
    out.print(summary_table(results, title=f"Job {paths.job} (resumed)"))
    if any(c.task_model.simulated for c in configs):
        out.print(SIMULATED_NOTE)
    out.print(f"Files: {paths.dir}")
    if any(r.status != "completed" for r in results):
        raise typer.Exit(1)
