"""The answer-table detector: literal tables in code or data files, compared with the dev answers.

Tables (mac.audit.tables) are literal lists, maps, answer records and answer strings. With the dev answers at
hand (trusted side only), a table is compared:

- by key, when its keys name dev problems: 0- or 1-based indices, record ids, hashes of the question text
  (md5/sha1/sha256, any prefix of at least 8 hex digits), or pieces of the question text;
- in order, at the offset (dev problem k onwards) where it matches best.

A match is `ratio` = matched / compared and its chance under independence (the binomial tail with the per-item
chance sum_v p_dev(v) * p_table(v), so a table of all "A" is not a match on a split that is half A's),
multiplied by the number of offsets or key readings tried (Bonferroni: searching many alignments finds chance ones).
ratio >= 0.5 with >= 4 matches is high when the chance is below 1e-3 and medium below 0.05.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from mac.audit.tables import MIN_TABLE, Table, canon

MIN_MATCHES = 4
_INT = re.compile(r"^[+-]?\d{1,12}$")


@dataclass
class TableMatch:
    matches: int
    compared: int
    chance: float
    p_value: float
    how: str

    @property
    def ratio(self) -> float:
        return self.matches / self.compared if self.compared else 0.0

    def severity(self) -> str | None:
        if self.matches < MIN_MATCHES or self.ratio < 0.5:
            return None
        return "high" if self.p_value < 1e-3 else "medium" if self.p_value < 0.05 else None


class AnswerKey:
    """The dev split's answers (canonical), ids and questions, indexed for the detector. Trusted side only."""

    def __init__(self, answers: list[str], ids: list[str] | None = None, questions: list[str] | None = None):
        self.answers = [canon(a) or str(a).strip() for a in answers]
        self.ids = [str(i) for i in ids] if ids else []
        self.questions = list(questions) if questions else []
        self.positions: dict[str, list[int]] = {}
        for i, a in enumerate(self.answers):
            self.positions.setdefault(a, []).append(i)
        self.freq = {a: len(p) / len(self.answers) for a, p in self.positions.items()} if self.answers else {}
        self.id_index = {rid: i for i, rid in enumerate(self.ids)}
        self._hashes: dict[str, list[tuple[str, int]]] = {}
        self._texts = [_squash(q) for q in self.questions]
        for i, q in enumerate(self.questions):
            for text in {q, q.strip(), q.strip().lower()}:
                for algo in ("md5", "sha1", "sha256"):
                    digest = hashlib.new(algo, text.encode("utf-8")).hexdigest()
                    self._hashes.setdefault(digest[:8], []).append((digest, i))

    @classmethod
    def from_records(cls, records: Iterable[Any], normalize: Callable[[int, Any], str | None] | None = None
                     ) -> "AnswerKey":
        """From mac.records.Record-like objects; `normalize(idx, record)` gives the domain's canonical answer."""
        records = list(records)
        answers = []
        for i, r in enumerate(records):
            norm = normalize(i, r) if normalize else None
            answers.append(norm if norm is not None else str(r.answer))
        return cls(answers, [r.id for r in records], [r.question for r in records])

    def readings(self, key: Any) -> list[tuple[str, int]]:
        """(reading, dev index) pairs a table key may name: an int is tried as id, 0-based and 1-based index."""
        if isinstance(key, bool) or not isinstance(key, (int, str)):
            return []
        text = str(key).strip()
        found = [("id", self.id_index[text])] if text in self.id_index else []
        if _INT.match(text):
            k = int(text)
            found += [(name, i) for name, i in (("0-based index", k), ("1-based index", k - 1))
                      if 0 <= i < len(self.answers)]
            return found
        low = text.lower()
        if len(low) >= 8 and re.fullmatch(r"[0-9a-f]+", low):
            found += [("question hash", i) for digest, i in self._hashes.get(low[:8], []) if digest.startswith(low)][:1]
        elif len(low) >= 16 and len(self._texts) <= 5000:
            piece = _squash(text)
            found += [("question text", i) for i, q in enumerate(self._texts) if piece in q][:1]
        return found

    def match(self, table: Table) -> TableMatch | None:
        best = None
        if table.keys is not None:
            best = self._match_keys(table)
        seq = self._match_sequence(table.values)
        if seq is not None and (best is None or seq.p_value < best.p_value):
            best = seq
        return best

    def _chance(self, values: list[str]) -> float:
        counts = Counter(values)
        e = sum(self.freq.get(v, 0.0) * n / len(values) for v, n in counts.items())
        return min(max(e, 1e-4), 0.9999)

    def _match_keys(self, table: Table) -> TableMatch | None:
        readings: dict[str, tuple[int, int]] = {}
        for key, value in zip(table.keys or [], table.values):
            for reading, idx in self.readings(key):
                hit, seen = readings.get(reading, (0, 0))
                readings[reading] = (hit + (value == self.answers[idx]), seen + 1)
        if not readings:
            return None
        chance = self._chance(table.values)
        best = None
        for how, (hit, seen) in readings.items():
            if seen < max(MIN_TABLE, len(table.values) // 2):
                continue
            p_value = min(1.0, binomial_tail(hit, seen, chance) * len(readings))
            tm = TableMatch(hit, seen, chance, p_value, f"keyed to dev problems by {how}")
            if best is None or tm.p_value < best.p_value:
                best = tm
        return best

    def _match_sequence(self, values: list[str]) -> TableMatch | None:
        if len(values) < MIN_TABLE or not self.answers:
            return None
        offsets = {0}
        for j, v in enumerate(values[:3]):
            offsets.update(p - j for p in self.positions.get(v, []) if p - j >= 0)
        chance = self._chance(values)
        tried = [off for off in sorted(offsets)[:2000] if min(len(values), len(self.answers) - off) >= MIN_TABLE]
        best = None
        for off in tried:
            compared = min(len(values), len(self.answers) - off)
            hit = sum(1 for i in range(compared) if values[i] == self.answers[off + i])
            p_value = min(1.0, binomial_tail(hit, compared, chance) * len(tried))  # Bonferroni over the offsets
            tm = TableMatch(hit, compared, chance, p_value, f"in order from dev problem {off}")
            if best is None or tm.p_value < best.p_value:
                best = tm
        return best


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), in log space (n may be in the thousands)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    lp, lq = math.log(p), math.log1p(-p)
    terms = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq
             for i in range(k, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def _squash(text: str) -> str:
    return " ".join(text.lower().split())
