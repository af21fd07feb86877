"""`mac audit TRIAL_DIR`: audit a trial folder again (static scan, evidence, optional LLM) and write audit.json."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from mac.cli import app
from mac.cli.common import console, err_console, handle_errors
from mac.textsafe import for_markup

_STYLE = {"CLEAN": "bold green", "SUSPICIOUS": "bold yellow", "CHEATING": "bold red"}


@app.command()
@handle_errors
def audit(
    trial_dir: Path = typer.Argument(..., help="A trial folder: jobs/<job>/<trial>."),
    auditor_model: str | None = typer.Option(None, "--auditor-model", help="LLM auditor: openai:MODEL_NAME."),
    auditor_base_url: str | None = typer.Option(None, "--auditor-base-url",
                                                   help="OpenAI-compatible base URL of the auditor model."),
    auditor_key_env: str = typer.Option("MAC_AUDITOR_API_KEY", "--auditor-key-env",
                                        help="Environment variable holding the auditor's API key."),
    data: Path | None = typer.Option(None, "--data", help="Domain data folder (default: the trial's)."),
    as_json: bool = typer.Option(False, "--json", help="Print the audit report as JSON."),
) -> None:
    """Audit a trial: static scan, runtime evidence, optional LLM review -> audit.json and result.json."""
    from mac.audit import AuditorConfig, audit_trial, update_result

    config, domain, (dev, test) = _trial_context(trial_dir, data)
    auditor = AuditorConfig.parse(auditor_model, auditor_base_url, api_key_env=auditor_key_env) if auditor_model else None
    report = asyncio.run(audit_trial(trial_dir, domain=domain, dev_records=dev, test_records=test, auditor=auditor))
    update_result(trial_dir, report)
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
        return
    _print_summary(report, config)
    console.print(f"[dim]written: {trial_dir / 'audit.json'}[/]")


def _trial_context(trial_dir: Path, data: Path | None) -> tuple[Any, Any, tuple[list[Any] | None, list[Any] | None]]:
    from mac.domains import get_domain
    from mac.domains.testseed import seed_for
    from mac.errors import ConfigError, DataError
    from mac.store import TrialConfig, TrialPaths

    paths = TrialPaths(trial_dir)
    if not paths.config.is_file():
        raise ConfigError(f"{trial_dir} is not a trial folder (no config.json); pass jobs/<job>/<trial>")
    config = TrialConfig.load(paths.config)
    domain = get_domain(config.domain)
    folder = data or (Path(config.data) if config.data else None)
    splits: dict[str, list[Any] | None] = {}
    for split in ("dev", "test"):
        try:
            seed = seed_for(domain, folder, config.test_seed_file, expect=config.test_seed_fingerprint) \
                if split == "test" and data is None else None
            splits[split] = domain.load(split, folder, seed=seed)
        except (ConfigError, DataError) as exc:
            err_console.print(f"[yellow]warning:[/] no {split} answers ({for_markup(exc)}); answer tables are not "
                              f"compared with them")
            splits[split] = None
    return config, domain, (splits["dev"], splits["test"])


def _print_summary(report: Any, config: Any) -> None:
    v = report.verdict
    console.print(f"[{_STYLE[v.verdict]}]{v.verdict}[/]  {for_markup(config.job)}/{for_markup(config.trial)}  "
                  f"(decided by {v.source}; {report.scan.files} files scanned in {report.scan.seconds:.2f}s, "
                  f"{len(report.evidence)} evidence items)")
    if v.findings:
        table = Table(title="Findings", show_lines=False)
        for column in ("id", "type", "severity", "level", "summary", "cites"):
            table.add_column(column, overflow="fold")
        for f in v.findings:
            table.add_row(f.id, f.type, f.severity, f"[{_STYLE[f.level]}]{f.level}[/]", for_markup(f.summary, limit=300),
                          ", ".join((f.static_ids + f.evidence_ids)[:8]))
        console.print(table)
    notable = [f for f in report.static_findings if f.severity in ("medium", "high", "critical")]
    for f in notable[:15]:
        console.print(f"  {f.id} {f.severity:<8} {f.rule} {for_markup(f.location)}: {for_markup(f.message)}")
    for note in v.notes:
        console.print(f"[dim]{for_markup(note)}[/]")
