"""Inline SVG charts for the HTML report: learning curves, score distributions, phase timelines.

Plain strings, no plotting library: the report must work offline as one file. Every label goes through
`html.escape`; numbers are formatted by us.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from mac.report.load import DevPoint


def fmt_duration(sec: float) -> str:
    """45s, 12m, 3h05m."""
    sec = max(0.0, float(sec))
    if sec < 90:
        return f"{sec:.0f}s"
    if sec < 5400:
        return f"{sec / 60:.0f}m"
    hours, minutes = divmod(int(round(sec / 60)), 60)
    return f"{hours}h{minutes:02d}m"


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>")


def _y_grid(x0: float, x1: float, y_of, body: list[str]) -> None:
    for value in (0, 25, 50, 75, 100):
        y = y_of(value)
        body.append(f'<line class="grid" x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}"/>')
        body.append(f'<text class="tick" x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')


def learning_curve(points: list[DevPoint], *, test_accuracy: float | None, freeze_sec: float | None,
                   limit_sec: float | None, width: int = 760, height: int = 260) -> str:
    """Dev accuracy over development time, one dot per evaluation (hollow: first_k subset; red: failed),
    a dashed best-so-far line, and the final test score as a diamond at the freeze."""
    left, right, top, bottom = 44, 16, 12, 30
    span = max([limit_sec or 0.0, freeze_sec or 0.0, 1.0] + [p.time_sec for p in points])
    x_of = lambda t: left + (width - left - right) * t / span  # noqa: E731
    y_of = lambda a: top + (height - top - bottom) * (1 - min(max(a, 0.0), 100.0) / 100)  # noqa: E731
    body: list[str] = []
    _y_grid(left, width - right, y_of, body)
    for i in range(5):
        t = span * i / 4
        body.append(f'<text class="tick" x="{x_of(t):.1f}" y="{height - 10}" text-anchor="middle">'
                    f'{fmt_duration(t)}</text>')
    if limit_sec:
        body.append(f'<line class="limit" x1="{x_of(limit_sec):.1f}" y1="{top}" x2="{x_of(limit_sec):.1f}" '
                    f'y2="{height - bottom}"><title>development time limit</title></line>')
    ordered = sorted(points, key=lambda p: p.time_sec)
    if ordered:
        body.append('<polyline class="dev" points="'
                    + " ".join(f"{x_of(p.time_sec):.1f},{y_of(p.accuracy):.1f}" for p in ordered) + '"/>')
        body.append(_best_so_far(ordered, x_of, y_of))
    for p in ordered:
        css = "pt" + (" subset" if p.first_k else "") + ("" if p.success else " failed")
        tip = (f"{fmt_duration(p.time_sec)}: dev {p.accuracy:.1f}% ({p.correct}/{p.total})"
               + (f", first_k={p.first_k}" if p.first_k else "") + ("" if p.success else ", failed")
               + (f", run {p.run_id}" if p.run_id else ""))
        body.append(f'<circle class="{css}" cx="{x_of(p.time_sec):.1f}" cy="{y_of(p.accuracy):.1f}" r="4">'
                    f'<title>{escape(tip)}</title></circle>')
    if test_accuracy is not None:
        x, y = x_of(freeze_sec if freeze_sec is not None else span), y_of(test_accuracy)
        body.append(f'<path class="test" d="M{x:.1f},{y - 7:.1f} L{x + 7:.1f},{y:.1f} L{x:.1f},{y + 7:.1f} '
                    f'L{x - 7:.1f},{y:.1f} Z"><title>{escape(f"test {test_accuracy:.1f}%")}</title></path>')
        label_y = y - 10 if y - 10 > top + 8 else y + 18  # keep the label inside the chart near 100%
        body.append(f'<text class="testlabel" x="{x - 10:.1f}" y="{label_y:.1f}" text-anchor="end">'
                    f'test {test_accuracy:.1f}</text>')
    if not ordered:
        body.append(f'<text class="empty" x="{width / 2}" y="{height / 2}" text-anchor="middle">'
                    'no dev evaluations</text>')
    return _svg(width, height, body, "learning curve: dev accuracy over development time")


def _best_so_far(points: list[DevPoint], x_of, y_of) -> str:
    coords, best = [], None
    for p in points:
        if p.first_k or not p.success:
            continue  # a score on a subset is not comparable to the full split
        if best is not None:
            coords.append(f"{x_of(p.time_sec):.1f},{y_of(best):.1f}")
        best = p.accuracy if best is None else max(best, p.accuracy)
        coords.append(f"{x_of(p.time_sec):.1f},{y_of(best):.1f}")
    return f'<polyline class="best" points="{" ".join(coords)}"/>' if len(coords) > 1 else ""


@dataclass
class DistributionRow:
    """One configuration in the distribution chart."""

    label: str
    scores: list[float]
    excluded: list[float]
    """Scores not counted (CHEATING), drawn as crosses."""
    mean: float | None = None
    ci: tuple[float, float] | None = None
    naive: float | None = None
    strong: float | None = None


def distribution(rows: list[DistributionRow], *, width: int = 1000) -> str:
    """A dot plot per configuration on one 0-100 axis: trials, mean with its 95% CI, baseline ticks."""
    label_w, right, lane, top = 280, 20, 40, 10
    height = top + lane * len(rows) + 28
    x_of = lambda a: label_w + (width - label_w - right) * min(max(a, 0.0), 100.0) / 100  # noqa: E731
    body: list[str] = []
    for value in (0, 25, 50, 75, 100):
        x = x_of(value)
        body.append(f'<line class="grid" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - 24}"/>')
        body.append(f'<text class="tick" x="{x:.1f}" y="{height - 8}" text-anchor="middle">{value}</text>')
    for i, row in enumerate(rows):
        mid = top + lane * i + lane / 2
        body.append(f'<text class="label" x="{label_w - 8}" y="{mid + 4:.1f}" text-anchor="end">'
                    f'{escape(row.label[:40])}</text>')
        for kind, base in (("naive", row.naive), ("strong", row.strong)):
            if base is not None:
                body.append(f'<line class="base {kind}" x1="{x_of(base):.1f}" y1="{mid - 13:.1f}" '
                            f'x2="{x_of(base):.1f}" y2="{mid + 13:.1f}"><title>{kind} baseline {base:.1f}%'
                            f'</title></line>')
        if row.ci is not None:
            body.append(f'<line class="ci" x1="{x_of(row.ci[0]):.1f}" y1="{mid:.1f}" x2="{x_of(row.ci[1]):.1f}" '
                        f'y2="{mid:.1f}"><title>95% CI {row.ci[0]:.1f} to {row.ci[1]:.1f}</title></line>')
        if row.mean is not None:
            body.append(f'<rect class="mean" x="{x_of(row.mean) - 1.5:.1f}" y="{mid - 9:.1f}" width="3" '
                        f'height="18"><title>mean {row.mean:.1f}%</title></rect>')
        for j, score in enumerate(row.scores):
            jitter = ((j * 7) % 5 - 2) * 2.5  # deterministic, so equal scores stay visible
            body.append(f'<circle class="pt" cx="{x_of(score):.1f}" cy="{mid + jitter:.1f}" r="4">'
                        f'<title>{score:.1f}%</title></circle>')
        for score in row.excluded:
            x = x_of(score)
            body.append(f'<path class="cheat" d="M{x - 4:.1f},{mid - 4:.1f} L{x + 4:.1f},{mid + 4:.1f} '
                        f'M{x - 4:.1f},{mid + 4:.1f} L{x + 4:.1f},{mid - 4:.1f}"><title>excluded (CHEATING) '
                        f'{score:.1f}%</title></path>')
    return _svg(width, height, body, "test score distribution per configuration")


@dataclass
class Span:
    label: str
    start_sec: float
    end_sec: float | None
    error: bool = False


def timeline(spans: list[Span], ticks: list[tuple[float, str]], *, width: int = 1000) -> str:
    """Phases as bars on one time axis (seconds since the trial started), dev evaluations as ticks."""
    label_w, right, lane, top = 90, 16, 22, 8
    height = top + lane * max(1, len(spans)) + 30
    end = max([1.0] + [s.end_sec or s.start_sec for s in spans] + [t for t, _ in ticks])
    x_of = lambda t: label_w + (width - label_w - right) * max(0.0, t) / end  # noqa: E731
    body: list[str] = []
    for i in range(5):
        t = end * i / 4
        body.append(f'<text class="tick" x="{x_of(t):.1f}" y="{height - 8}" text-anchor="middle">'
                    f'{fmt_duration(t)}</text>')
    for i, span in enumerate(spans):
        y = top + lane * i
        stop = span.end_sec if span.end_sec is not None else end
        css = "phase" + (" error" if span.error else "") + ("" if span.end_sec is not None else " open")
        body.append(f'<text class="label" x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(span.label)}</text>')
        body.append(f'<rect class="{css}" x="{x_of(span.start_sec):.1f}" y="{y + 3}" '
                    f'width="{max(2.0, x_of(stop) - x_of(span.start_sec)):.1f}" height="{lane - 6}">'
                    f'<title>{escape(f"{span.label}: {fmt_duration(stop - span.start_sec)}")}</title></rect>')
    axis_y = top + lane * max(1, len(spans))
    for t, tip in ticks:
        body.append(f'<line class="evtick" x1="{x_of(t):.1f}" y1="{axis_y - 4}" x2="{x_of(t):.1f}" '
                    f'y2="{axis_y + 6}"><title>{escape(tip)}</title></line>')
    return _svg(width, height, body, "timeline of phases and dev evaluations")
