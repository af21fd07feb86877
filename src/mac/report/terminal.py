"""The leaderboard as rich tables for the terminal (`mac report`)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from mac.report.aggregate import ConfigRow, Report
from mac.report.fmt import DASH, ci, fraction, mean_std, money, pct, tokens, verdict_counts


def _baseline(config: ConfigRow, kind: str) -> Text:
    for comp in config.baselines:
        if comp.kind == kind and comp.score.mean is not None:
            text = Text(f"{comp.score.mean:.1f} ")
            if comp.beats is not None:
                word = ("beats" + (" (CI)" if comp.clearly_beats else "")) if comp.beats else "below"
                text.append(word, style="green" if comp.beats else "red")
            return text
    return Text(DASH)


def leaderboard_table(report: Report) -> Table:
    table = Table(title="Leaderboard (test accuracy, 0-100)", header_style="bold", show_lines=False)
    for name, justify in (("domain", "left"), ("meta-agent", "left"), ("task model", "left"), ("trials", "right"),
                          ("mean ± std", "right"), ("95% CI", "right"), ("best", "right"), ("worst", "right"),
                          ("dev→test gap", "right"), ("naive", "left"), ("human", "left"), ("integrity", "left"),
                          ("requests", "right"), ("tokens in/out", "right"), ("cost", "right"),
                          ("time used", "right"), ("quota used", "right")):
        table.add_column(name, justify=justify)
    for c in report.configs:
        total = c.usage.get("total")
        trials = f"{c.counted}/{c.trials}" + (f" ({c.running} running)" if c.running else "") + \
            (f" ({c.excluded_cheating} excluded)" if c.excluded_cheating else "")
        model = Text(c.task_model) + (Text(" SIM", style="bold yellow") if c.simulated else Text(""))
        table.add_row(
            c.domain, c.meta_agent, model, trials, mean_std(c.test), ci(c.test),
            pct(c.best.test_accuracy) if c.best else DASH, pct(c.worst.test_accuracy) if c.worst else DASH,
            mean_std(c.dev_test_gap), _baseline(c, "naive"), _baseline(c, "strong"), verdict_counts(c.verdicts),
            str(total.requests) if total else DASH,
            f"{tokens(total.input_tokens)}/{tokens(total.output_tokens)}" if total else DASH,
            money(total.cost_usd) if total else DASH, fraction(c.dev_time_frac), fraction(c.dev_quota_frac))
    return table


def print_report(report: Report, console: Console) -> None:
    """Banner (SIMULATED, exclusions), leaderboard, then any unreadable files."""
    if report.simulated:
        console.print(Panel(Text("SIMULATED: trials used the simulated task model (sim); scores exercise the "
                                 "protocol and say nothing about real models.", style="bold yellow"),
                             border_style="yellow"))
    if not report.trials:
        console.print(f"no trials found in {', '.join(report.jobs) or 'the given jobs'}")
        return
    parts: list = [leaderboard_table(report)]
    note = "CHEATING trials are included in the means (--include-cheating)." if report.include_cheating else \
        "CHEATING trials are excluded from the means (--include-cheating to count them)."
    parts.append(Text(note, style="dim"))
    for problem in report.problems:
        parts.append(Text(f"unreadable: {problem}", style="red"))
    console.print(Group(*parts))
