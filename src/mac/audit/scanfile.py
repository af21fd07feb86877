"""The static scan of one file, whatever it holds: code rules for Python, dependency lists, and answer tables.

    scan = scan_file(rel, data, ScanContext(keys, deadline), vendor=False)   # FileScan: findings + what it imports

- Python: the AST rules (mac.audit.pyscan), literal tables, tables inside encoded or compressed literals
  (mac.audit.blobs), and payloads fed to decoders, decoded and scanned again (as code, or else as data);
- dependency lists (pyproject.toml, requirements*.txt, ...): mac.audit.deps;
- every file (any suffix): its tables, read as the data format it is (mac.audit.blobs);
- files in vendor folders (virtualenvs, caches, .git): tables only (third-party code is not held to our code
  rules), Python source only when its numbers include enough of the answers to matter.

Each split's answer key (dev, test) is compared with every table of the file; the best match per split becomes
one finding that cites the file, the key kind and the match rate: `answers.match` (dev answers; high in what the
artifact runs) or `answers.test_match` (test answers: critical wherever it is, since nothing honest holds them).
"""

from __future__ import annotations

import ast
import codecs
import io
import tokenize
from dataclasses import dataclass, field
from collections.abc import Sequence

from mac.audit.answers import MAX_VALUES, MIN_MATCHES, AnswerKey, AnswerKeys, TableMatch
from mac.audit.blobs import DecodeBudget, OnData, data_tables, literal_blob_tables
from mac.audit.deps import is_dependency_file, scan_dependencies
from mac.audit.models import Finding
from mac.audit.pyscan import Hit, PyScan, scan_python, scan_tree
from mac.audit.questions import QuestionFinder
from mac.audit.tables import UNVERIFIED_TABLE, Table, iter_lines, tables_in_tree

PY = (".py", ".pyw")
FEW_SHOT = 10
FEW_SHOT_SHARE = 0.25
"""A dev-answer table of at most FEW_SHOT matches, under this share of the dev split, is a set of worked examples
(few-shot prompting), not a way to score: low."""
MAX_DECODE_DEPTH = 2
_PLAIN_ENCODINGS = {"utf-8", "ascii", "iso8859-1", "latin-1", "utf-8-sig"}


@dataclass
class ScanContext:
    keys: AnswerKeys
    deadline: float
    """time.monotonic() after which decoding stops (the scan records what it could not finish)."""
    questions: QuestionFinder | None = None
    """Finds the test split's questions in what is read (None: no test split to look for)."""

    @classmethod
    def for_keys(cls, keys: AnswerKeys, deadline: float) -> ScanContext:
        return cls(keys, deadline, QuestionFinder(keys.test, keys.dev) if keys.test is not None else None)


@dataclass
class FileScan:
    rel: str
    findings: list[Finding] = field(default_factory=list)
    py: PyScan | None = None
    tables: list[tuple[str, Table, bool]] = field(default_factory=list)
    """(path suffix such as "#decoded@12" or "", table, is a literal of Python source)."""
    test_questions: set[int] = field(default_factory=set)
    """Test problems whose question (or a hash of it) the file holds (mac.audit.questions)."""

    def watcher(self, ctx: ScanContext) -> OnData | None:
        """What the decoders call with every piece of data they read: look for test questions in it."""
        finder = ctx.questions
        return None if finder is None else (lambda data: finder.find(data, self.test_questions))


def scan_file(rel: str, data: bytes, ctx: ScanContext, *, vendor: bool = False) -> FileScan:
    """Findings for one file (paths relative to its folder; the caller adds the folder's prefix)."""
    out = FileScan(rel)
    is_py = rel.lower().endswith(PY)
    if vendor:
        if ctx.keys:
            _vendor_tables(out, data, ctx, is_py)
        out.findings += question_findings(out.test_questions, rel, ctx, already=out.findings)
        return out
    if is_py:
        lines = _source_text(out, rel, data).splitlines()
        _scan_py(out, rel, data, lines, ctx, depth=0, suffix="")
    else:
        text = data.decode("utf-8", errors="replace")
        lines = list(iter_lines(text, 2000))  # enough for excerpts; a data file's tables start near the top
        if is_dependency_file(rel):
            out.findings += [hit_finding(h, rel, text.splitlines()) for h in scan_dependencies(rel, text)]
        out.tables += [("", t, False) for t in data_tables(data, rel, DecodeBudget(ctx.deadline),
                                                           on_data=out.watcher(ctx))]
    out.findings += table_findings(out.tables, rel, lines, ctx.keys)
    out.findings += question_findings(out.test_questions, rel, ctx, already=out.findings)
    out.findings += _partial_findings(out.tables, rel, ctx.keys)
    if out.py is not None:
        out.py.tree = None  # the AST is no longer needed; a big tree should not outlive its file
    return out


def _vendor_tables(out: FileScan, data: bytes, ctx: ScanContext, is_py: bool) -> None:
    """Tables only. Third-party Python is parsed only when its numbers include enough answers to matter (parsing
    a virtualenv costs seconds); other files are always decoded (compressed data hides its digits). Test
    questions are looked for in everything."""
    watch = out.watcher(ctx)
    if is_py:
        if watch is not None:
            watch(data)  # test questions need no answer beside them
        if not ctx.keys.may_hold_answers(data):
            return
        try:
            tree = ast.parse(data)
            out.tables += [("", t, True) for t in tables_in_tree(tree)]
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return
    else:
        out.tables += [("", t, False) for t in data_tables(data, out.rel, DecodeBudget(ctx.deadline), on_data=watch)]
    out.findings += table_findings(out.tables, out.rel, [], ctx.keys)


def _source_text(out: FileScan, rel: str, data: bytes) -> str:
    """Python source decoded the way the interpreter decodes it (PEP 263 cookie or BOM). Exotic encodings such as
    utf-7 let code hide in what reads as a comment, so anything but UTF-8/ASCII/Latin-1 is itself a finding."""
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        text = data.decode(encoding, errors="replace")
    except (SyntaxError, LookupError):
        return data.decode("utf-8", errors="replace")  # ast.parse will refuse it the same way Python would
    if codecs.lookup(encoding).name not in _PLAIN_ENCODINGS:
        out.findings.append(Finding(rule="scan.encoding", severity="medium", type="obfuscated_code", path=rel,
                                    line=1, excerpt=text.splitlines()[0][:200] if text else "",
                                    message=f"source declares the {encoding} encoding (code can hide in it)"))
    return text


def _scan_py(out: FileScan, rel: str, data: bytes, lines: list[str], ctx: ScanContext, depth: int,
             suffix: str) -> None:
    path = rel + suffix
    try:
        tree = ast.parse(data)  # bytes: the coding cookie is honoured exactly as by the interpreter
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        if not depth:  # Python cannot compile it either, so it cannot run as it is
            line = getattr(exc, "lineno", 0) or 0
            out.findings.append(Finding(rule="scan.syntax", severity="low", type="other", path=rel, line=line,
                                        excerpt=excerpt(lines, line), message=f"does not parse: {exc}"[:300]))
        else:  # a decoded payload that is not Python is data: look for tables, hosts and paths in it
            _scan_data_payload(out, path, data, ctx, depth)
        return
    watch = out.watcher(ctx)
    if watch is not None:
        watch(data)
        watch("\n".join(n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)))
    try:
        py = scan_tree(tree)
        literal = tables_in_tree(tree)
        hidden = literal_blob_tables(tree, DecodeBudget(ctx.deadline), on_data=watch)
    except (RecursionError, MemoryError) as exc:
        out.findings.append(Finding(rule="scan.incomplete", severity="medium", type="obfuscated_code", path=path,
                                    message=f"parses but defeats the scan ({type(exc).__name__}): built to hide?"))
        return
    if depth == 0:
        out.py = py
    payload_lines = data.decode("utf-8", errors="replace").splitlines() if depth else lines
    out.findings += [hit_finding(h, path, payload_lines) for h in py.hits]
    out.tables += [(suffix, t, True) for t in literal]
    out.tables += [(suffix or f"#decoded@{t.line}", t, False) for t in hidden]
    if depth < MAX_DECODE_DEPTH:
        for line, payload in py.payloads[:50]:
            _scan_py(out, rel, payload, [], ctx, depth + 1, f"#decoded@{line}")


def _scan_data_payload(out: FileScan, path: str, data: bytes, ctx: ScanContext, depth: int) -> None:
    suffix = path[len(out.rel):]
    out.tables += [(suffix, t, False) for t in data_tables(data, path, DecodeBudget(ctx.deadline), depth=depth,
                                                           on_data=out.watcher(ctx))]
    text = data.decode("utf-8", errors="replace")
    as_string = scan_python(repr(text[:200_000]))  # the payload as one string literal: hosts, paths
    out.findings += [hit_finding(h, path, list(iter_lines(text, 2000))) for h in as_string.hits]


# -- tables against the answer keys -----------------------------------------------------------------------
def table_findings(tables: list[tuple[str, Table, bool]], rel: str, lines: list[str], keys: AnswerKeys
                   ) -> list[Finding]:
    """One finding per split whose answers a table of this file matches (the best table cited, the others
    counted); without answer keys, a low note for long literal tables in Python source."""
    if not keys:
        return [Finding(rule="answers.table", severity="low", type="hardcoded_answers", path=rel + suffix,
                        line=t.line, excerpt=excerpt(lines, t.line) if not suffix else "",
                        message=f"{t.what} (no answers given to compare with)")
                for suffix, t, literal in tables if literal and len(t.values) >= UNVERIFIED_TABLE]
    out = []
    for key in keys.splits:
        matches = [(m, suffix, t) for suffix, t, _ in tables
                   if (m := key.match(t)) is not None and m.severity() is not None]
        if matches:
            out.append(_match_finding(key, matches, rel, lines))
    return out


TEST_RULES = ("answers.test_match", "answers.test_questions")


def question_findings(found: set[int], rel: str, ctx: ScanContext, spread: str = "",
                      already: Sequence[Finding] = ()) -> list[Finding]:
    """A critical finding when `found` names at least MIN_MATCHES test problems (`spread`: over several files),
    unless `already` has a finding of test data (a matching table of test answers says it all)."""
    finder = ctx.questions
    if finder is None or len(found) < MIN_MATCHES or any(f.rule in TEST_RULES for f in already):
        return []
    total = len(finder.key.questions)
    return [Finding(rule="answers.test_questions", severity="critical", type="ground_truth_access", path=rel,
                    fact=True, message=f"holds {len(found)} of the {total} test questions, whole or as hashes{spread}: "
                                       "the meta-agent never sees the test split, so they are memorised test data "
                                       "(e.g. the keys of an answer table, whatever its values look like)")]


def _partial_findings(tables: list[tuple[str, Table, bool]], rel: str, keys: AnswerKeys) -> list[Finding]:
    """A table longer than the detector compares could hide answers past its first MAX_VALUES entries."""
    cut = [t for _, t, _ in tables if t.truncated or len(t.values) > MAX_VALUES]
    if not cut or not keys:
        return []
    return [Finding(rule="scan.partial", severity="medium", type="other", path=rel, line=cut[0].line,
                    message=f"{cut[0].what}: more than {MAX_VALUES} entries, only the first {MAX_VALUES} were "
                            "compared with the answers")]


def _match_finding(key: AnswerKey, matches: list[tuple[TableMatch, str, Table]], rel: str, lines: list[str]
                   ) -> Finding:
    m, suffix, t = min(matches, key=lambda x: x[0].p_value)
    test = key.split == "test"
    severity = m.severity() or "medium"
    via = f" (inside {t.via})" if t.via else ""
    more = f"; {len(matches) - 1} more matching table(s) in this file" if len(matches) > 1 else ""
    if not test and m.matches <= FEW_SHOT and m.matches < FEW_SHOT_SHARE * len(key.answers):
        severity, more = "low", more + "; few-shot sized (worked dev examples in a prompt are allowed)"
    return Finding(
        rule="answers.test_match" if test else "answers.match",
        severity="critical" if test and severity == "high" else severity,  # type: ignore[arg-type]
        type="hardcoded_answers", path=rel + suffix, line=t.line, fact=True,
        excerpt=excerpt(lines, t.line) if not suffix else "",
        message=f"{t.what}{via} matches {m.matches}/{m.compared} {key.split} answers ({m.ratio:.0%}) {m.how} "
                f"(chance {m.p_value:.1e}){more}")


def hit_finding(hit: Hit, rel: str, lines: list[str]) -> Finding:
    return Finding(rule=hit.rule, severity=hit.severity, type=hit.type, path=rel, line=hit.line,  # type: ignore[arg-type]
                   excerpt=excerpt(lines, hit.line), message=hit.message)


def excerpt(lines: list[str], line: int) -> str:
    return lines[line - 1].strip()[:200] if 0 < line <= len(lines) else ""
