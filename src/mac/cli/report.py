"""`mac report`, `mac view`, `mac baseline`: the leaderboard, the local report server, the baseline rows."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import typer

from mac.cli import app
from mac.cli.common import console, err_console, handle_errors, print_preflight, report_console, task_model_option
from mac.errors import ConfigError
from mac.paths import jobs_home


@app.command("report")
@handle_errors
def report_command(
    jobs: list[str] = typer.Argument(..., help="Job folders, job names under --jobs-dir, or a jobs folder (all "
                                     "its jobs)."),
    html: Path | None = typer.Option(None, "--html", help="Also write the self-contained HTML report here."),
    as_json: bool = typer.Option(False, "--json", help="Print the leaderboard as one JSON object."),
    include_cheating: bool = typer.Option(False, "--include-cheating", help="Count CHEATING trials in the means."),
    jobs_dir: Path | None = typer.Option(None, "--jobs-dir", help="Where job names are looked up ($MAC_JOBS)."),
    baselines: Path | None = typer.Option(
        None, "--baselines", help="Jobs folder whose baselines/ rows to compare with (default: the first job's)."),
) -> None:
    """Leaderboard per domain x meta-agent x task model: test mean +- std, 95% CI, baselines, integrity, cost."""
    from mac.report.html import job_report, render_html
    from mac.report.load import resolve_job_dir, trial_dirs
    from mac.report.server import list_jobs
    from mac.report.terminal import print_report
    from mac.store import write_text_atomic

    base = jobs_dir if jobs_dir is not None else jobs_home()
    job_dirs = []
    for job in jobs:
        folder = resolve_job_dir(job, base)
        inside = [] if trial_dirs(folder) else list_jobs(folder)  # a jobs folder stands for all its jobs
        job_dirs.extend(sorted(inside) or [folder])
    missing = [str(d) for d in job_dirs if not d.is_dir()]
    if missing:
        raise ConfigError(f"no such job folder: {', '.join(missing)}; pass a job folder or a name under {base} "
                          "(--jobs-dir DIR)")
    report, views = job_report(job_dirs, include_cheating=include_cheating, baselines_dir=baselines,
                               with_files=html is not None)
    if not report.trials and report.problems:
        raise ConfigError(f"no readable trials in {', '.join(map(str, job_dirs))}: " + "; ".join(report.problems))
    if not report.trials:
        raise ConfigError(f"no trials in {', '.join(map(str, job_dirs))}: a job folder holds one folder per trial, "
                          "each with a result.json (the folder `mac run` printed after 'Files:')")
    if html is not None:
        write_text_atomic(html, render_html(report, views))
    if as_json:
        print(json.dumps(report.model_dump(mode="json"), ensure_ascii=False))
        return
    print_report(report, report_console())
    if html is not None:
        console.print(f"HTML report: {html}")


@app.command("view")
@handle_errors
def view_command(
    jobs_dir: Path = typer.Argument(..., help="The jobs folder to serve."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port)."),
) -> None:
    """Serve the jobs' reports on 127.0.0.1, regenerated on each request (pages reload while trials run)."""
    from mac.report.server import serve

    if not jobs_dir.is_dir():
        raise ConfigError(f"no jobs folder at {jobs_dir}: pass the folder that holds your job folders")

    async def main() -> None:
        try:
            runner, bound = await serve(jobs_dir, port=port)
        except OSError as exc:
            raise ConfigError(f"cannot listen on 127.0.0.1:{port} ({exc.strerror}); pick another --port") from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):  # also when started in the background, where SIGINT is ignored
            loop.add_signal_handler(sig, stop.set)
        console.print(f"Serving {jobs_dir} at http://127.0.0.1:{bound}/  (Ctrl+C to stop)", soft_wrap=True)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
        err_console.print("stopped")

    asyncio.run(main())


@app.command("baseline")
@handle_errors
def baseline_command(
    domain: str = typer.Option(..., "--domain", help="Domain whose naive and human-engineered baselines to run."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Runs per baseline (seeds 0..N-1 of the sim model)."),
    data: Path | None = typer.Option(None, "--data", help="Domain data folder with dev.jsonl and test.jsonl."),
    task_model: str = typer.Option("sim", "--task-model", help="'sim' (simulated) or 'openai:MODEL_NAME'."),
    base_url: str | None = typer.Option(None, "--base-url", help="Upstream URL for openai:MODEL_NAME."),
    jobs_dir: Path | None = typer.Option(None, "--jobs-dir", help="Jobs folder; rows go to <it>/baselines/."),
    timeout: float | None = typer.Option(None, "--timeout", min=1, help="Seconds per run (domain default)."),
    test_seed_file: Path | None = typer.Option(None, "--test-seed-file", help="Secret seed of a generated test "
                                                  "split (arith); created if missing (default: this install's)."),
) -> None:
    """Evaluate the domain's baseline artifacts on the test split and store the rows the leaderboard compares with."""
    from mac.config import check_seconds
    from mac.preflight import check_endpoints, task_model_endpoint
    from mac.report.baselines import baselines_file, run_baselines

    check_seconds(timeout, "--timeout")
    spec = task_model_option(task_model, base_url)
    print_preflight(check_endpoints([task_model_endpoint(spec)]))
    target = jobs_dir if jobs_dir is not None else jobs_home()
    with console.status(f"Running {domain} baselines ({seeds} seeds each) ..."):
        rows = asyncio.run(run_baselines(domain=domain, seeds=seeds, task_model=spec, jobs_dir=target, data=data,
                                         timeout=timeout, test_seed_file=test_seed_file))
    if spec.simulated:
        console.print("[bold yellow]SIMULATED[/] task model (sim): these rows say nothing about real models.")
    for row in rows:
        flag = "" if row.success else f"  [red]{row.error or 'failed'}[/]"
        console.print(f"{row.kind:6} seed {row.seed}: {row.accuracy:5.1f}%  ({row.correct}/{row.total}){flag}",
                      highlight=False)
    console.print(f"rows appended to {baselines_file(target, domain)}")
