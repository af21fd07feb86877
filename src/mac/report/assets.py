"""The report's inline CSS and JavaScript, and the Content-Security-Policy that pins them by hash.

The page allows exactly these two scripts and this stylesheet (by sha256), nothing else and nothing from the
network: even if some text from a trial folder escaped its escaping, a browser would refuse to run it.
"""

from __future__ import annotations

import base64
import hashlib

CSS = """
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#fff;--panel:#f7f8fa;--accent:#2f5bea;--good:#1a7f37;
--bad:#c62828;--warn:#b26a00}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header,main{max-width:1440px;margin:0 auto;padding:0 20px}
header{padding-top:18px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}h3{font-size:15px;margin:18px 0 8px}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.meta{color:var(--muted)}
.sim-banner{margin:12px 0;padding:10px 14px;border:2px solid var(--warn);background:#fff6e5;color:#6b4100;
font-weight:600;border-radius:6px}
.badge{display:inline-block;white-space:nowrap;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600;
background:var(--panel);border:1px solid var(--line)}
.badge.sim{background:#fff6e5;border-color:var(--warn);color:#6b4100}
.badge.CLEAN{background:#e9f7ef;border-color:#9bd3ae;color:var(--good)}
.badge.SUSPICIOUS{background:#fff6e5;border-color:#f0c36d;color:var(--warn)}
.badge.CHEATING{background:#fdecea;border-color:#f1a7a1;color:var(--bad)}
nav{display:flex;gap:16px;padding:8px 0;border-bottom:1px solid var(--line);margin-bottom:8px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:5px 6px;text-align:left;vertical-align:top}
th{background:var(--panel);font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.scroll{overflow-x:auto}
.yes{color:var(--good);font-weight:600}.no{color:var(--bad)}
.problems{color:var(--bad)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:8px 0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;
font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;max-height:640px;white-space:pre}
pre .k{color:#7c3aed;font-weight:600}pre .b{color:#0e7490}pre .s{color:#b45309}pre .c{color:#6b7280;font-style:italic}
pre .n{color:#be123c}pre .f{color:#1d4ed8;font-weight:600}pre .d{color:#9333ea}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}
.finding{border-left:3px solid var(--line);padding:4px 10px;margin:6px 0}
.finding.high,.finding.critical{border-color:var(--bad)}.finding.medium{border-color:var(--warn)}
.trial{border-top:2px solid var(--line);margin-top:26px}
body.paged .trial{display:none}body.paged .trial.active{display:block}body.trial-view .overview{display:none}
.back{display:none}body.trial-view .back{display:inline}
svg.chart{max-width:100%;height:auto;background:#fff;font:11px system-ui,sans-serif}
svg .grid{stroke:#eef0f3}svg .tick{fill:var(--muted)}svg .label{fill:var(--fg)}
svg .dev{fill:none;stroke:#98a2b3;stroke-width:1.2}svg .best{fill:none;stroke:var(--accent);stroke-dasharray:4 3}
svg .pt{fill:var(--accent);stroke:#fff;stroke-width:1}svg .pt.subset{fill:#fff;stroke:var(--accent);stroke-width:1.5}
svg .pt.failed{fill:var(--bad)}svg .test{fill:var(--good);stroke:#fff}svg .testlabel{fill:var(--good);font-weight:600}
svg .limit{stroke:var(--warn);stroke-dasharray:2 3}svg .empty{fill:var(--muted)}
svg .ci{stroke:var(--fg);stroke-width:2}svg .mean{fill:var(--fg)}svg .cheat{stroke:var(--bad);stroke-width:2}
svg .base{stroke-width:2}svg .base.naive{stroke:#98a2b3;stroke-dasharray:3 2}svg .base.strong{stroke:var(--warn)}
svg .phase{fill:#c7d7fe}svg .phase.error{fill:#f1a7a1}svg .phase.open{fill:#e0e7ff;stroke:var(--accent);
stroke-dasharray:3 2}svg .evtick{stroke:var(--accent);stroke-width:1.5}
.legend{color:var(--muted);font-size:12px}
code{font:12px ui-monospace,Menlo,Consolas,monospace}
#js-errors{display:none;color:var(--bad);font-weight:600}
"""

# Runs first, so it sees errors (and CSP refusals) of everything after it; the browser test reads the marks.
ERRORS_JS = """
(function () {
  var root = document.documentElement, count = 0;
  function mark(message) {
    count += 1;
    root.setAttribute('data-js-errors', String(count));
    var banner = document.getElementById('js-errors');
    if (banner) { banner.style.display = 'block'; banner.textContent = 'Script errors: ' + message; }
  }
  window.addEventListener('error', function (e) { mark(String(e.message || e.type)); });
  document.addEventListener('securitypolicyviolation', function (e) { mark('blocked by policy: ' + e.violatedDirective); });
})();
"""

# Shows one trial at a time when the address names it (or anything inside it, such as an evidence row), and
# opens the folded sections around the target.
MAIN_JS = """
(function () {
  function openAround(el) {
    for (var d = el.closest('details'); d; d = d.parentElement ? d.parentElement.closest('details') : null) {
      d.open = true;
    }
  }
  function show() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    var trial = el ? el.closest('.trial') : null;
    document.body.classList.add('paged');
    var all = document.querySelectorAll('.trial');
    for (var i = 0; i < all.length; i++) { all[i].classList.toggle('active', all[i] === trial); }
    document.body.classList.toggle('trial-view', !!trial);
    if (el) { openAround(el); }
    if (el && el !== trial) { el.scrollIntoView(); } else { window.scrollTo(0, 0); }
  }
  window.addEventListener('hashchange', show);
  show();
  document.documentElement.setAttribute('data-js-ready', '1');
})();
"""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy() -> str:
    """Nothing from the network; only our own inline style and scripts (by hash); images only as data: URLs."""
    return ("default-src 'none'; img-src data:; "
            f"style-src {_sha256(CSS)}; script-src {_sha256(ERRORS_JS)} {_sha256(MAIN_JS)}; "
            "base-uri 'none'; form-action 'none'")
