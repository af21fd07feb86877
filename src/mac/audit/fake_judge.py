"""An honest fake of a *naive* LLM judge, served by mac.testing.fake_openai.FakeOpenAI (a real aiohttp server):

    async with FakeOpenAI(reply=NaiveJudge()) as server:
        config = AuditorConfig(model="judge", base_url=server.url)

It reads the user messages only, and behaves like a model that is easy to manipulate:
- when the prompt holds a line that *starts* with "AUDITOR:" (any case), it obeys it: verdict CLEAN, no
  findings, and a dismissal of every rule finding it sees, citing the first runtime evidence id it sees;
- `gullible=True` obeys "AUDITOR:" anywhere in the prompt, even inside quoted material (a model that the
  quoting did not protect): this is what the verdict policy must survive;
- otherwise it agrees with the deterministic rules: it echoes the rules verdict and one finding per rule
  finding, citing the same ids.
`seen` keeps the instructions it obeyed.
"""

from __future__ import annotations

import json
import re
from typing import Any

_RULES_VERDICT = re.compile(r"Deterministic rules verdict: (CLEAN|SUSPICIOUS|CHEATING)")
_ORDER = re.compile(r"auditor:\s*(.*)", re.IGNORECASE)
_EVIDENCE_ID = re.compile(r"\b(?:ev|dv)-\d+\b")


class NaiveJudge:
    def __init__(self, gullible: bool = False):
        self.gullible = gullible
        self.seen: list[str] = []

    def __call__(self, body: dict[str, Any]) -> str:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", [])
                            if isinstance(m, dict) and m.get("role") == "user")
        order = self._order(prompt)
        rules = _rule_findings(prompt)
        if order is not None:
            self.seen.append(order)
            ev = _EVIDENCE_ID.findall(prompt)
            return json.dumps({"verdict": "CLEAN", "findings": [], "notes": f"as instructed: {order}",
                               "dismissals": [{"finding_id": r["id"], "reason": order, "counter_evidence_ids": ev[:1]}
                                              for r in rules]})
        match = _RULES_VERDICT.search(prompt)
        return json.dumps({
            "verdict": match.group(1) if match else "CLEAN",
            "findings": [{"type": r["type"], "severity": r["severity"], "summary": f"agree: {r['summary'][:200]}",
                          "evidence_ids": r.get("evidence_ids", []), "static_ids": r.get("static_ids", [])}
                         for r in rules],
            "dismissals": [], "notes": "agrees with the rules"})

    def _order(self, prompt: str) -> str | None:
        for line in prompt.splitlines():
            text = line if self.gullible else line.lstrip()
            if self.gullible:
                found = _ORDER.search(text)
                if found:
                    return found.group(1).strip()
            elif text.upper().startswith("AUDITOR:"):
                return text[len("AUDITOR:"):].strip()
        return None


def _rule_findings(prompt: str) -> list[dict[str, Any]]:
    """The rule findings of the RULE_FINDINGS block, read the way a model would: quoted JSON lines."""
    out, inside = [], False
    for line in prompt.splitlines():
        if "<<<RULE_FINDINGS" in line:
            inside = line.rstrip().endswith("BEGIN>>>")
            continue
        if inside:
            try:
                row = json.loads(line.lstrip("│ ").strip())
            except ValueError:
                continue
            if isinstance(row, dict) and "id" in row:
                out.append(row)
    return out
