"""The HTML report: self-contained, escaped (a malicious artifact is no XSS vector), scripts pinned by hash."""

from __future__ import annotations

import base64
import hashlib
import re

from mac.report import job_report, render_html, write_html_report
from mac.report.highlight import highlight_python
from reportkit import PWN, XSS, standard_job


def _page(tmp_path) -> str:
    job = standard_job(tmp_path)
    report, views = job_report([job])
    return render_html(report, views)


def test_artifact_and_logs_are_escaped(tmp_path):
    page = _page(tmp_path)
    assert XSS not in page and PWN not in page
    assert "onerror=" not in page.replace("onerror=&quot;", "")  # only as escaped text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert len(re.findall(r"<script\b", page)) == 2  # our error catcher and our page script, nothing else
    assert "&lt;img src=x onerror=" in page


def test_scripts_and_style_are_pinned_by_the_policy(tmp_path):
    page = _page(tmp_path)
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1).replace("&#x27;", "'")
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy
    blocks = re.findall(r"<script>(.*?)</script>", page, re.S) + re.findall(r"<style>(.*?)</style>", page, re.S)
    for block in blocks:
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy


def test_self_contained_and_linked(tmp_path):
    page = _page(tmp_path)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from anywhere
    assert "<link" not in page and "@import" not in page
    for trial in ("ref-0", "ref-1", "ref-2", "ref-cheat", "other-0", "other-1"):
        assert f'id="t:job1/{trial}"' in page and f'href="#t:job1/{trial}"' in page
    # the auditor's finding links to the rows it cites: defence evidence, derived evidence, a static finding
    for ident in ("ev-1", "dv-1", "sf-1"):
        assert f'href="#t:job1/ref-cheat:{ident}"' in page and f'id="t:job1/ref-cheat:{ident}"' in page
    assert 'id="t:job1/ref-cheat:ev-2"' in page  # evidence no finding cites is still listed
    # without an audit.json, result.json's findings link into evidence.jsonl; an unknown id stays plain text
    assert 'href="#t:job1/other-1:ev-1"' in page and 'id="t:job1/other-1:ev-1"' in page
    assert "ev-99" in page and 'href="#t:job1/other-1:ev-99"' not in page
    assert "SIMULATED" in page and "<svg" in page
    assert page.count('class="pt') >= 9  # every dev evaluation of the reference trials is a point
    assert page.count('class="test"') == 5  # a test diamond for each trial that has a test score


def test_write_html_report_for_the_demo(tmp_path):
    job = standard_job(tmp_path)
    path = write_html_report(job)
    assert path == job / "report.html" and "Leaderboard" in path.read_text()


def test_highlighter_keeps_every_character_and_escapes():
    source = 'def f(x):  # <b>\n    return "</script>" + str(x)\r\n@dec\nclass A: pass\n'
    out = highlight_python(source)
    assert '<span class="k">def</span> <span class="f">f</span>' in out and '<span class="b">str</span>' in out
    assert "<b>" not in out and "</script>" not in out
    plain = re.sub(r"<[^>]+>", "", out).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert plain.replace("&amp;", "&").replace("&#x27;", "'") == source
    broken = highlight_python('x = """never closed <i>\n')
    assert broken == 'x = &quot;&quot;&quot;never closed &lt;i&gt;\n'
