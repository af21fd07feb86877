"""The answer-table detector: tables found in the artifact's files, compared with the dev and the test answers.

Tables (mac.audit.tables, mac.audit.blobs) are lists, maps, answer records, answer strings, lines and columns of
data. With a split's answers at hand (trusted side only: an `AnswerKey` per split), a table is compared:

- by key, when its keys name problems of the split: record ids, 0- or 1-based positions, hashes of the question
  (md5, sha1, sha2, sha3, blake2 as hex, any prefix of at least 8 digits; crc32 and adler32 as integers) of the
  text as given, stripped, lower-cased, with whitespace collapsed or with punctuation dropped, or the question text
  itself (a piece of it, or the question inside a longer key);
- by position: the table's values in order, at the alignment (table position i against problem j) where the most
  of them agree.

A match is `ratio` = matched / compared and its chance under independence (the binomial tail with the per-item
chance sum_v p_split(v) * p_table(v), so a table of all "A" is not a match on a split that is half A's),
multiplied by the number of alignments or key kinds tried (Bonferroni: searching many readings finds chance ones).
ratio >= 0.5 with >= 4 matches is high when the chance is below 1e-3 and medium below 0.05.
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Iterable

from mac.audit.tables import MAX_ROWS, MIN_TABLE, Table, canon

MIN_MATCHES = 4
MAX_VALUES = MAX_ROWS
"""Values of one table compared at most (a longer one is compared on its first MAX_VALUES: mac.audit.scanfile
records that as `scan.partial`)."""
HASHES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_512", "blake2b", "blake2s")
_INT = re.compile(r"^[+-]?\d{1,20}$")
_HEX = re.compile(r"^[0-9a-f]{8,128}$")
_PUNCT = re.compile(r"[^\w\s]")


@dataclass
class TableMatch:
    matches: int
    compared: int
    chance: float
    p_value: float
    how: str
    """The key kind: "keyed by record id", "keyed by sha256 of the question", "in order from problem 0", ..."""

    @property
    def ratio(self) -> float:
        return self.matches / self.compared if self.compared else 0.0

    def severity(self) -> str | None:
        if self.matches < MIN_MATCHES or self.ratio < 0.5:
            return None
        return "high" if self.p_value < 1e-3 else "medium" if self.p_value < 0.05 else None


def normalised_forms(question: str) -> set[str]:
    """The question as a table might have hashed or copied it."""
    low = question.strip().lower()
    squashed = " ".join(low.split())
    return {question, question.strip(), low, squashed, " ".join(_PUNCT.sub(" ", low).split())}


class AnswerKey:
    """One split's answers (canonical), ids and questions, indexed for the detector. Trusted side only."""

    def __init__(self, answers: list[str], ids: list[str] | None = None, questions: list[str] | None = None,
                 split: str = "dev"):
        self.split = split
        self.answers = [canon(a) or str(a).strip() for a in answers]
        self.ids = [str(i) for i in ids] if ids else []
        self.questions = list(questions) if questions else []
        self.positions: dict[str, list[int]] = {}
        for i, a in enumerate(self.answers):
            self.positions.setdefault(a, []).append(i)
        self.freq = {a: len(p) / len(self.answers) for a, p in self.positions.items()} if self.answers else {}
        self.id_index = {rid: i for i, rid in enumerate(self.ids)}
        self._hashes: dict[str, list[tuple[str, int, str]]] = {}
        self._checksums: dict[int, tuple[int, str]] = {}
        self._texts = [" ".join(q.lower().split()) for q in self.questions]
        self._exact = {t: i for i, t in enumerate(self._texts)}
        self._trigrams: dict[str, set[int]] = {}
        for i, q in enumerate(self.questions):
            self._index_question(i, q)

    def _index_question(self, i: int, question: str) -> None:
        for text in normalised_forms(question):
            raw = text.encode("utf-8")
            for algo in HASHES:
                digest = hashlib.new(algo, raw).hexdigest()
                self._hashes.setdefault(digest[:8], []).append((digest, i, algo))
            self._checksums.setdefault(zlib.crc32(raw), (i, "crc32"))
            self._checksums.setdefault(zlib.adler32(raw), (i, "adler32"))
        words = self._texts[i].split()
        for k in range(max(0, len(words) - 2)):
            self._trigrams.setdefault(" ".join(words[k:k + 3]), set()).add(i)

    @classmethod
    def from_records(cls, records: Iterable[Any], normalize: Callable[[int, Any], str | None] | None = None,
                     split: str = "dev") -> AnswerKey:
        """From mac.records.Record-like objects; `normalize(idx, record)` gives the domain's canonical answer."""
        records = list(records)
        answers = []
        for i, r in enumerate(records):
            norm = normalize(i, r) if normalize else None
            answers.append(norm if norm is not None else str(r.answer))
        return cls(answers, [r.id for r in records], [r.question for r in records], split=split)

    # -- what a key names --------------------------------------------------------------------------------
    def readings(self, key: Any) -> list[tuple[str, int]]:
        """(key kind, problem index) pairs a table key may name."""
        if isinstance(key, bool) or not isinstance(key, (int, str)):
            return []
        text = str(key).strip()
        found = [("record id", self.id_index[text])] if text in self.id_index else []
        if _INT.match(text):
            k = int(text)
            found += [(kind, i) for kind, i in (("0-based position", k), ("1-based position", k - 1))
                      if 0 <= i < len(self.answers)]
            found += self.checksum_reading(k)
            return found
        low = text.lower()
        if _HEX.match(low):
            found += self.hash_reading(low)
        elif len(low) >= 16:
            found += self._text_reading(low)
        return found

    def hash_reading(self, low: str) -> list[tuple[str, int]]:
        """The question a lower-case hex digest (or a prefix of 8+ digits) is of: [] or [(kind, index)]."""
        return [(f"{algo} of the question", i) for digest, i, algo in self._hashes.get(low[:8], [])
                if digest.startswith(low)][:1]

    def checksum_reading(self, k: int) -> list[tuple[str, int]]:
        """The question an integer is the crc32 or adler32 of: [] or [(kind, index)]."""
        if k not in self._checksums:
            return []
        i, algo = self._checksums[k]
        return [(f"{algo} of the question", i)]

    def _text_reading(self, low: str) -> list[tuple[str, int]]:
        piece = " ".join(low.split())
        if piece in self._exact:
            return [("question text", self._exact[piece])]
        words = piece.split()
        grams = [" ".join(words[k:k + 3]) for k in {0, max(0, len(words) // 2 - 1), max(0, len(words) - 3)}]
        candidates = set().union(*(self._trigrams.get(g, set()) for g in grams)) if words else set()
        for i in sorted(candidates):
            if piece in self._texts[i] or self._texts[i] in piece:
                return [("question text", i)]
        return []

    # -- matching ----------------------------------------------------------------------------------------
    def match(self, table: Table) -> TableMatch | None:
        """The best reading of `table` against this split (None: nothing to compare)."""
        best = self._match_keys(table) if table.keys is not None else None
        seq = self._match_sequence(table.values[:MAX_VALUES])
        if seq is not None and (best is None or seq.p_value < best.p_value):
            best = seq
        return best

    def _chance(self, values: list[str]) -> float:
        counts = Counter(values)
        e = sum(self.freq.get(v, 0.0) * n / len(values) for v, n in counts.items())
        return min(max(e, 1e-4), 0.9999)

    def _match_keys(self, table: Table) -> TableMatch | None:
        kinds: dict[str, tuple[int, int]] = {}
        for key, value in zip((table.keys or [])[:MAX_VALUES], table.values[:MAX_VALUES]):
            for kind, idx in self.readings(key):
                hit, seen = kinds.get(kind, (0, 0))
                kinds[kind] = (hit + (value == self.answers[idx]), seen + 1)
        if not kinds:
            return None
        chance = self._chance(table.values[:MAX_VALUES])
        best = None
        for kind, (hit, seen) in kinds.items():
            if seen < MIN_TABLE:
                continue
            p_value = min(1.0, binomial_tail(hit, seen, chance) * len(kinds))
            tm = TableMatch(hit, seen, chance, p_value, f"keyed by {kind}")
            if best is None or tm.p_value < best.p_value:
                best = tm
        return best

    def _match_sequence(self, values: list[str]) -> TableMatch | None:
        """The values in order, at the alignment where most agree (d = table position - problem index)."""
        if len(values) < MIN_TABLE or not self.answers:
            return None
        hits: Counter[int] = Counter({0: 0})
        for i, v in enumerate(values):
            for p in self.positions.get(v, ()):
                hits[i - p] += 1
        chance = self._chance(values)
        alignments = len(values) + len(self.answers) - 1  # Bonferroni: every alignment could have been picked
        best = None
        for d, hit in hits.most_common(64):
            compared = min(len(values), d + len(self.answers)) - max(0, d)
            if compared < MIN_TABLE:
                continue
            p_value = min(1.0, binomial_tail(hit, compared, chance) * alignments)
            start = f"problem {max(0, -d)}" + (f" (from table position {d})" if d > 0 else "")
            tm = TableMatch(hit, compared, chance, p_value, f"in order from {start}")
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


class AnswerKeys:
    """The keys the scan compares tables with: the dev split's and the test split's (trusted side only)."""

    def __init__(self, dev: AnswerKey | None = None, test: AnswerKey | None = None):
        self.dev, self.test = dev, test
        self.splits = [k for k in (dev, test) if k is not None]
        self._numbers = {a.encode() for k in self.splits for a in k.answers if len(a) >= 2 and a.isdigit()}
        self._letters = any(not a.isdigit() for k in self.splits for a in k.answers)

    def __bool__(self) -> bool:
        return bool(self.splits)

    def may_hold_answers(self, data: bytes) -> bool:
        """A cheap pre-check for third-party files: do at least MIN_MATCHES of the answers occur in `data`?
        (Always true for letter answers, which occur everywhere.)"""
        if self._letters or not self._numbers:
            return True
        seen = {n.lstrip(b"0") for n in re.findall(rb"\d{2,12}", data)} & self._numbers
        return len(seen) >= MIN_MATCHES
