"""The integrity part of a trial's section: verdict, findings, and the evidence and static findings they cite,
each cited id a link to its row (`#t:JOB/TRIAL:ev-3`).

With a full `audit.json` (mac.audit.models.AuditReport) the rows come from it: normalised evidence (ev-N from
the defences, dv-N derived by the auditor) and static findings (sf-N). Without one (not audited yet), the rows
are the raw `evidence.jsonl` and the findings are those `result.json` holds. Everything is escaped.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from pydantic import ValidationError

from mac.report.fmt import DASH, evidence_anchor
from mac.report.load import TrialView
from mac.report.svg import fmt_duration

_TEXT_KEYS = ("summary", "message", "title", "detail", "description")
_META_KEYS = ("id", "severity", "level", "type", "rule", "kind", "category", "check", "basis", "source")
_CITE_KEYS = ("evidence_ids", "static_ids", "evidence")
_SHOWN_KEYS = _TEXT_KEYS + _META_KEYS + _CITE_KEYS
_DEFAULTS = {("severity", "info"), ("count", 1)}
"""Evidence fields not worth a word when they hold these values."""


def _audit_report(view: TrialView) -> Any:
    """The AuditReport in audit.json, or None (no audit yet, or another version)."""
    if not view.audit.get("verdict"):
        return None
    from mac.audit.models import AuditReport

    try:
        return AuditReport.model_validate(view.audit)
    except ValidationError:
        return None


def integrity_section(view: TrialView) -> str:
    r = view.result
    audit = _audit_report(view)
    if audit is not None:
        findings = [f.model_dump(mode="json") for f in audit.verdict.findings]
        evidence = [e.model_dump(mode="json") for e in audit.evidence]
        static = [s.model_dump(mode="json") for s in audit.static_findings]
        notes = audit.verdict.notes
        source = f" (decided by {audit.verdict.source})"
    else:
        findings = [f for f in (r.findings or []) if isinstance(f, dict)]
        evidence, static, notes, source = view.evidence, [], [], ""
    known = {str(row.get("id")) for row in evidence + static}
    verdict = r.integrity_verdict or (audit.verdict.verdict if audit is not None else None)
    out = [f'<p>Verdict: <span class="badge {escape(verdict or "")}">{escape(verdict or "not audited")}</span>'
           f"{escape(source)} &middot; {len(findings)} findings &middot; {len(evidence)} evidence records</p>"]
    out += [f'<p class="meta">{escape(note)}</p>' for note in notes]
    out += [_finding(view, f, known) for f in findings]
    out.append(_evidence_table(view, evidence))
    if static:
        out.append(_static_table(view, static))
    return "\n".join(out)


def _link(view: TrialView, ident: str, known: set[str]) -> str:
    if ident not in known:
        return escape(ident)
    return f'<a href="#{escape(evidence_anchor(view.result.job, view.result.trial, ident))}">{escape(ident)}</a>'


def _finding(view: TrialView, finding: dict[str, Any], known: set[str]) -> str:
    text = next((str(finding[k]) for k in _TEXT_KEYS if finding.get(k)), "")
    meta = " ".join(f"[{finding[k]}]" for k in _META_KEYS if finding.get(k))
    cited: list[str] = []
    for key in _CITE_KEYS:
        value = finding.get(key)
        cited += [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []
    links = ", ".join(_link(view, ident, known) for ident in cited[:60])
    rest = {k: v for k, v in finding.items() if k not in _SHOWN_KEYS and v not in (None, "", [], {})}
    severity = str(finding.get("severity", "")).lower()
    return (f'<div class="finding {escape(severity)}"><strong>{escape(meta)}</strong> {escape(text)}'
            + (f"<br>cites: {links}" if links else "")
            + (f'<br><span class="meta">{escape(compact(rest))}</span>' if rest else "") + "</div>")


def _evidence_table(view: TrialView, evidence: list[dict[str, Any]]) -> str:
    if not evidence:
        return '<p class="meta">no evidence recorded</p>'
    r = view.result
    rows = []
    for ev in evidence:
        ident = str(ev.get("id", ""))
        when = ev.get("time")
        at = fmt_duration(when - r.started_at) if isinstance(when, (int, float)) and when >= r.started_at else DASH
        what = ev.get("summary") or ev.get("label") or ""
        detail = {k: v for k, v in ev.items() if k not in ("id", "time", "source", "kind", "label", "summary")
                  and v not in (None, "", [], {}, False) and not (isinstance(v, (str, int)) and (k, v) in _DEFAULTS)}
        rows.append(f'<tr id="{escape(evidence_anchor(r.job, r.trial, ident))}"><td>{escape(ident)}</td>'
                    f"<td class='num'>{at}</td><td>{escape(str(ev.get('source', '')))}</td>"
                    f"<td>{escape(str(ev.get('kind', '')))}</td><td>{escape(str(what))}</td>"
                    f"<td>{escape(compact(detail))}</td></tr>")
    return ("<details open><summary>Evidence</summary><div class='scroll'><table><tr><th>id</th><th class='num'>at"
            "</th><th>source</th><th>kind</th><th>what</th><th>detail</th></tr>" + "".join(rows)
            + "</table></div></details>")


def _static_table(view: TrialView, static: list[dict[str, Any]]) -> str:
    r = view.result
    rows = "".join(
        f'<tr id="{escape(evidence_anchor(r.job, r.trial, str(s.get("id", ""))))}"><td>{escape(str(s.get("id", "")))}'
        f"</td><td>{escape(str(s.get('severity', '')))}</td><td>{escape(str(s.get('rule', '')))}</td>"
        f"<td>{escape(str(s.get('path', '')))}:{escape(str(s.get('line', '')))}</td>"
        f"<td>{escape(str(s.get('message', '')))}</td>"
        f"<td><code>{escape(str(s.get('excerpt', ''))[:300])}</code></td></tr>"
        for s in static)
    return ("<details><summary>Static findings</summary><div class='scroll'><table><tr><th>id</th><th>severity</th>"
            "<th>rule</th><th>where</th><th>message</th><th>excerpt</th></tr>" + rows + "</table></div></details>")


def compact(obj: Any, limit: int = 600) -> str:
    """Short JSON for a detail cell (cut with an ellipsis)."""
    text = json.dumps(obj, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + " …"
