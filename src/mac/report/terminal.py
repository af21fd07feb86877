"""The leaderboard as rich tables for the terminal (`mac report`)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mac.records import Usage
from mac.report.aggregate import ConfigRow, Report
from mac.report.fmt import DASH, ci, fraction, mean_std, meta_usage, money, not_counted, pct, tokens
from mac.textsafe import printable


def _baseline(config: ConfigRow, kind: str) -> Text:
    for comp in config.baselines:
        if comp.kind == kind and comp.score.mean is not None:
            text = Text(f"{comp.score.mean:.1f} ")
            if comp.verdict is not None:
                text.append(comp.verdict, style={"beats": "green", "below": "red"}.get(comp.verdict, "dim"))
            if comp.difference is not None:
                text.append(f" ({comp.difference:+.1f})", style="dim")
            return text
    return Text(DASH)


def _key_columns(table: Table) -> None:
    for name in ("domain", "meta-agent", "task model"):
        table.add_column(name, overflow="fold")


def _model(c: ConfigRow) -> Text:
    return Text(printable(c.task_model)) + (Text(" SIM", style="bold yellow") if c.simulated else Text(""))


def _key(c: ConfigRow) -> list[Text]:
    """Domain and meta-agent as read from result files (which anyone may have written): shown escaped."""
    return [Text(printable(c.domain)), Text(printable(c.meta_agent))]


def leaderboard_table(report: Report) -> Table:
    """Scores: trials counted, mean ± std, 95% CI, best, worst, dev→test gap, the two baselines."""
    table = Table(title="Leaderboard (test accuracy, 0-100)", header_style="bold")
    _key_columns(table)
    for name in ("n", "mean ± std", "95% CI", "best", "worst", "dev→test gap"):
        table.add_column(name, justify="right")
    table.add_column("naive")
    table.add_column("human")
    for c in report.configs:
        table.add_row(*_key(c), _model(c), f"{c.counted}/{c.trials}", mean_std(c.test), ci(c.test),
                      pct(c.best.test_accuracy) if c.best else DASH, pct(c.worst.test_accuracy) if c.worst else DASH,
                      mean_std(c.dev_test_gap), _baseline(c, "naive"), _baseline(c, "strong"))
    return table


def integrity_usage_table(report: Report) -> Table:
    """Trial states, integrity verdicts, model usage, cost and budget use per configuration."""
    table = Table(title="Integrity, usage and budget", header_style="bold")
    _key_columns(table)
    table.add_column("not counted")
    table.add_column("integrity")
    for name in ("requests", "tokens in/out", "cost", "time used", "quota used"):
        table.add_column(name, justify="right", no_wrap=True)
    with_meta = any(c.meta_agent_usage is not None for c in report.configs)
    if with_meta:  # real tools report their own model use; built-in meta-agents have none
        table.add_column("meta-agent's own model", justify="right")
    for c in report.configs:
        total = c.usage.get("total")
        states = ", ".join(not_counted(c)) or DASH
        verdicts = Text(", ".join(f"{n} {name.lower()}" for name, n in c.verdicts.items() if n) or DASH,
                        style="bold red" if c.verdicts.get("CHEATING") else "")
        cells: list[Any] = [*_key(c), _model(c), states, verdicts, _requests(total),
                 f"{tokens(total.input_tokens)}/{tokens(total.output_tokens)}" if total else DASH,
                 money(total.cost_usd) if total else DASH, fraction(c.dev_time_frac), fraction(c.dev_quota_frac)]
        table.add_row(*cells, *([meta_usage(c.meta_agent_usage)] if with_meta else []))
    return table


def _requests(total: Usage | None) -> str:
    if total is None:
        return DASH
    return str(total.requests) + (f" ({total.upstream_errors} failed upstream)" if total.upstream_errors else "")


def print_report(report: Report, console: Console) -> None:
    """Banner (SIMULATED, exclusions), leaderboard, then any unreadable files."""
    if report.simulated:
        console.print(Panel(Text("SIMULATED: trials used the simulated task model (sim); scores exercise the "
                                 "protocol and say nothing about real models.", style="bold yellow"),
                             border_style="yellow"))
    if not report.trials:
        console.print(f"no trials found in {', '.join(report.jobs) or 'the given jobs'}")
        return
    parts: list[Any] = [leaderboard_table(report), integrity_usage_table(report)]
    note = "CHEATING trials are included in the means (--include-cheating)." if report.include_cheating else \
        "CHEATING trials are excluded from the means (--include-cheating to count them)."
    parts.append(Text(note, style="dim"))
    parts.append(Text(f"Method: {report.method}.", style="dim"))
    for problem in report.problems:
        parts.append(Text(f"unreadable: {printable(problem)}", style="red"))
    console.print(Group(*parts))
