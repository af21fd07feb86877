"""Reports: the leaderboard per domain x meta-agent x task model, learning curves, the self-contained HTML
report, the `mac view` server, and the baseline rows the leaderboard compares against.

    from mac.report import job_report, write_html_report
    report, trials = job_report([Path("jobs/demo")])      # Report (pydantic) + loaded trials
    write_html_report(Path("jobs/demo"))                   # -> jobs/demo/report.html
"""

from mac.report.aggregate import BaselineComparison, ConfigRow, Report, ScoreStats, TrialRow, build_report
from mac.report.baselines import BaselineRow, baseline_scores, baselines_file, read_baselines, run_baselines
from mac.report.html import job_report, render_html, write_html_report
from mac.report.load import DevPoint, TrialView, load_job, load_trial, scan_job
from mac.report.stats import Summary, summarize, t_quantile

__all__ = [
    "BaselineComparison", "BaselineRow", "ConfigRow", "DevPoint", "Report", "ScoreStats", "Summary", "TrialRow",
    "TrialView", "baseline_scores", "baselines_file", "build_report", "job_report", "load_job", "load_trial",
    "read_baselines", "render_html", "run_baselines", "scan_job", "summarize", "t_quantile", "write_html_report",
]
