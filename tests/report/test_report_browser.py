"""The HTML report in a real headless browser (Debian chromium): renders, runs its script, no console
messages (errors, policy refusals), and a malicious artifact's markup never executes."""

from __future__ import annotations

import re

from mac.report import write_html_report
from browser import run_chromium
from reportkit import standard_job, write_baseline


def _report(tmp_path):
    job = standard_job(tmp_path / "jobs")
    write_baseline(tmp_path / "jobs", kind="naive", seed=0, accuracy=45.0)
    write_baseline(tmp_path / "jobs", kind="strong", seed=0, accuracy=73.0)
    return write_html_report(job)


def _root_tag(dom: str) -> str:
    """The <html ...> start tag after scripts ran: where the page script and a payload would leave marks."""
    return re.search(r"<html[^>]*>", dom).group(0)


def test_report_renders_without_console_errors(tmp_path):
    page = _report(tmp_path)
    dom, console = run_chromium(page.as_uri(), tmp_path, "--dump-dom")
    root = _root_tag(dom)
    assert 'data-js-ready="1"' in root, "the page script did not run to its end"
    assert "data-js-errors" not in root and "data-pwned" not in root
    assert console == [], "console messages (errors or policy refusals):\n" + "\n".join(console)
    assert 'class="paged"' in dom and "Leaderboard" in dom and "<svg" in dom


def test_trial_page_opens_by_its_anchor(tmp_path):
    page = _report(tmp_path)
    # a static finding, folded away in its <details> until a link points at it
    dom, console = run_chromium(page.as_uri() + "#t:job1/ref-cheat:sf-1", tmp_path, "--dump-dom")
    assert console == [], "\n".join(console)
    assert 'class="paged trial-view"' in dom  # the overview is hidden, one trial is shown
    assert dom.count('class="trial active"') == 1 and 'class="trial active" id="t:job1/ref-cheat"' in dom
    assert "data-pwned" not in _root_tag(dom) and 'data-js-ready="1"' in _root_tag(dom)
    assert re.search(r'<details open="">\s*<summary>Static findings', dom)


def test_screenshot_is_a_real_picture(tmp_path):
    page = _report(tmp_path)
    shot = tmp_path / "report.png"
    _, console = run_chromium(page.as_uri(), tmp_path, f"--screenshot={shot}", "--window-size=1400,1800")
    assert console == [], "\n".join(console)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000  # a blank page compresses to a few kB
