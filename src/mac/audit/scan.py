"""The static scan: every rule over every file of a folder (or a trial's artifact and workspace).

    findings = scan_workspace(path, dev_answers=["33", "7", ...])        # sync, never imports or runs code

Files are read with mac.audit.files (no symlinks followed, bounded); Python files go through the AST rules of
mac.audit.pyscan, dependency lists through mac.audit.deps, JSON/JSONL data and every literal through the
answer-table detector (mac.audit.answers), and literal payloads behind decoders are decoded and scanned again.
A file that does not parse is a (low) finding, never a crash.

Reachability: the entry (`agent.py`), the local modules it imports (transitively), root dependency lists, and
data files a reachable module names (all data files when it lists folders) are *reachable*: they are what runs
on the test split. Policy reads it: a high finding in reachable code is CHEATING, elsewhere SUSPICIOUS.
"""

from __future__ import annotations

import ast
import codecs
import io
import json
import sys
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collections.abc import Callable

from mac.audit import patterns as P
from mac.audit.answers import AnswerKey
from mac.audit.tables import UNVERIFIED_TABLE, Table, tables_in_tree, tables_in_value
from mac.audit.deps import is_dependency_file, scan_dependencies
from mac.audit.files import FileSet, Skip, read_tree
from mac.audit.models import Finding, ScanStats, severity_rank
from mac.audit.pyscan import Hit, PyScan, scan_python, scan_tree

MAX_DECODE_DEPTH = 2
_SHADOWED = {"mac", "openai", "base_agent", "openai_helper", "sitecustomize", "usercustomize", "httpx", "pydantic"}
_PLAIN_ENCODINGS = {"utf-8", "ascii", "iso8859-1", "latin-1", "utf-8-sig"}
MAX_SKIP_NOTES = 40
_PY = (".py", ".pyw")


@dataclass
class _FileScan:
    rel: str
    findings: list[Finding] = field(default_factory=list)
    py: PyScan | None = None


@dataclass
class ScanResult:
    findings: list[Finding]
    stats: ScanStats
    reachable: set[str] = field(default_factory=set)
    """Reachable files of the first folder, with its prefix (e.g. "artifact/agent.py")."""


ExtraRules = Callable[[str, bytes], list[Finding]]
"""Domain rules run on every file (rel, bytes), e.g. mac.audit.code_rules for code domains."""


def scan_workspace(path: Path, *, dev_answers: list[str] | None = None, dev_records: list[Any] | None = None,
                   entry: str = "agent.py", extra: ExtraRules | None = None) -> list[Finding]:
    """Static findings for a folder (ids sf-N). With dev answers (or records), literal tables are compared."""
    key = AnswerKey.from_records(dev_records) if dev_records else AnswerKey(dev_answers) if dev_answers else None
    return scan_folders([(Path(path), "")], key=key, entry=entry, extra=extra).findings


def scan_folders(roots: list[tuple[Path, str]], *, key: AnswerKey | None, entry: str = "agent.py",
                 extra: ExtraRules | None = None) -> ScanResult:
    """Scan several folders (e.g. a trial's artifact/ and workspace/) as one: files of a later folder that are
    identical to a file of the first one (same relative path and bytes) are not scanned twice; the others are
    scanned with the later folder's `prefix` and count as not reachable. `extra` adds a domain's rules."""
    started = time.perf_counter()
    findings: list[Finding] = []
    stats = ScanStats()
    first: dict[str, bytes] = {}
    reachable: set[str] = set()
    for n, (root, prefix) in enumerate(roots):
        fileset = read_tree(root)
        if n == 0:
            first = fileset.by_rel()
        else:
            fileset.files = [f for f in fileset.files if first.get(f.rel) != f.data]
        found, reached = _scan_fileset(fileset, prefix, key, entry, primary=(n == 0), extra=extra)
        findings += found
        reachable |= reached
        stats.files += len(fileset.files)
        stats.bytes += fileset.bytes
        stats.skipped += len(fileset.skipped)
    findings.sort(key=lambda f: (f.path, f.line, f.rule))
    for i, f in enumerate(findings, 1):
        f.id = f"sf-{i}"
    stats.seconds = round(time.perf_counter() - started, 4)
    return ScanResult(findings, stats, reachable)


def _scan_fileset(fileset: FileSet, prefix: str, key: AnswerKey | None, entry: str, primary: bool,
                  extra: ExtraRules | None = None) -> tuple[list[Finding], set[str]]:
    scans = [_scan_file(f.rel, f.data, key) for f in fileset.files]
    if extra is not None:
        for f, scan in zip(fileset.files, scans):
            scan.findings += extra(f.rel, f.data)
    reachable = _reachable(scans, fileset, entry) if primary else set()
    findings: list[Finding] = []
    for scan in scans:
        for f in scan.findings:
            f.reachable = scan.rel in reachable
            _adjust_for_reach(f, scan.rel)
            f.path = prefix + f.path
            findings.append(f)
    findings += _shadow_findings(fileset, prefix, reachable)
    findings += [_skip_finding(s, prefix) for s in fileset.skipped[:MAX_SKIP_NOTES]]
    if len(fileset.skipped) > MAX_SKIP_NOTES:
        findings.append(Finding(rule="scan.skipped", severity="info", type="other", path=prefix or ".",
                                message=f"{len(fileset.skipped) - MAX_SKIP_NOTES} more entries skipped"))
    return findings, {prefix + rel for rel in reachable}


def _scan_file(rel: str, data: bytes, key: AnswerKey | None, depth: int = 0) -> _FileScan:
    out = _FileScan(rel)
    is_py = rel.lower().endswith(_PY) or depth
    text = _source_text(out, rel, data) if is_py else data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if is_py:
        _scan_py(out, rel, data, text, lines, key, depth)
    if not depth and is_dependency_file(rel):
        out.findings += [_finding(h, rel, lines) for h in scan_dependencies(rel, text)]
    elif rel.lower().endswith((".json", ".jsonl")):
        out.findings += _table_findings(_json_tables(rel, text), rel, lines, key)
    return out


def _source_text(out: _FileScan, rel: str, data: bytes) -> str:
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


def _scan_py(out: _FileScan, rel: str, data: bytes, text: str, lines: list[str], key: AnswerKey | None,
             depth: int) -> None:
    try:
        tree = ast.parse(data)  # bytes: the coding cookie is honoured exactly as by the interpreter
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        if not depth:  # Python cannot compile it either, so it cannot run as it is
            line = getattr(exc, "lineno", 0) or 0
            out.findings.append(Finding(rule="scan.syntax", severity="low", type="other", path=rel, line=line,
                                        excerpt=_excerpt(lines, line), message=f"does not parse: {exc}"[:300]))
        else:  # a decoded payload that is not Python is data: look for tables, hosts and paths in it
            _scan_data_payload(out, rel, text, lines, key)
        return
    try:
        py = scan_tree(tree)
        tables = tables_in_tree(tree)
    except (RecursionError, MemoryError) as exc:
        out.findings.append(Finding(rule="scan.incomplete", severity="medium", type="obfuscated_code", path=rel,
                                    message=f"parses but defeats the scan ({type(exc).__name__}): built to hide?"))
        return
    out.py = py
    out.findings += [_finding(h, rel, lines) for h in py.hits]
    out.findings += _table_findings(tables, rel, lines, key)
    if depth < MAX_DECODE_DEPTH:
        for line, payload in py.payloads[:50]:
            nested = _scan_file(f"{rel}#decoded@{line}", payload, key, depth + 1)
            out.findings += nested.findings


def _scan_data_payload(out: _FileScan, rel: str, text: str, lines: list[str], key: AnswerKey | None) -> None:
    out.findings += _table_findings(_json_tables(rel, text), rel, lines, key)
    as_string = scan_python(repr(text[:200_000]))  # the payload as one string literal: hosts, paths, tables
    out.findings += [_finding(h, rel, lines) for h in as_string.hits]
    out.findings += _table_findings(tables_in_tree(as_string.tree), rel, lines, key)


def _json_tables(rel: str, text: str) -> list[Table]:
    tables: list[Table] = []
    try:
        if rel.lower().endswith(".jsonl"):
            rows = [json.loads(l) for l in text.splitlines()[:100_000] if l.strip()]
            tables_in_value(rows, 1, tables)
        else:
            tables_in_value(json.loads(text), 1, tables)
    except (ValueError, RecursionError):
        pass
    return tables


def _table_findings(tables: list[Table], rel: str, lines: list[str], key: AnswerKey | None) -> list[Finding]:
    out = []
    for t in tables:
        if key is not None:
            m = key.match(t)
            severity = m.severity() if m else None
            if m and severity:
                out.append(Finding(rule="answers.match", severity=severity, type="hardcoded_answers", path=rel,
                                   line=t.line, excerpt=_excerpt(lines, t.line), fact=True,
                                   message=f"{t.what} matches {m.matches}/{m.compared} dev answers {m.how} "
                                           f"(chance {m.p_value:.1e})"))
        elif len(t.values) >= UNVERIFIED_TABLE:
            out.append(Finding(rule="answers.table", severity="low", type="hardcoded_answers", path=rel, line=t.line,
                               excerpt=_excerpt(lines, t.line),
                               message=f"{t.what} (no dev answers given to compare with)"))
    return out


def _adjust_for_reach(f: Finding, rel: str) -> None:
    """A dev-answer table in a file the artifact never reads is most likely saved evaluation output."""
    if f.rule == "answers.match" and not f.reachable:
        is_data = not rel.split("#", 1)[0].lower().endswith(_PY)
        capped = "low" if is_data else "medium"
        if severity_rank(f.severity) > severity_rank(capped):
            f.severity = capped  # type: ignore[assignment]
            f.message += "; in a file the artifact does not use"


def _reachable(scans: list[_FileScan], fileset: FileSet, entry: str) -> set[str]:
    by_rel = {s.rel: s for s in scans}
    if entry not in by_rel:
        return set(by_rel)  # no entry: cannot tell what runs, so everything counts
    modules = {_module_name(rel): rel for rel in by_rel if rel.endswith(_PY)}
    reached, queue = {entry}, [entry]
    while queue:
        scan = by_rel[queue.pop()]
        for module, level in scan.py.imports if scan.py else []:
            for target in _resolve(module, level, scan.rel, modules):
                if target not in reached:
                    reached.add(target)
                    queue.append(target)
    refs = set().union(*(by_rel[r].py.file_refs for r in reached if by_rel[r].py))
    lists = any(by_rel[r].py.lists_files for r in reached if by_rel[r].py)
    for rel in by_rel:
        if rel.endswith(_PY):
            continue
        name = rel.rsplit("/", 1)[-1].lower()
        if lists or name in refs or ("/" not in rel and is_dependency_file(rel)):
            reached.add(rel)
    return reached


def _module_name(rel: str) -> str:
    stem = rel.rsplit(".", 1)[0].replace("/", ".")
    return stem[: -len(".__init__")] if stem.endswith(".__init__") else stem


def _resolve(module: str, level: int, importer: str, modules: dict[str, str]) -> list[str]:
    if level:
        package = importer.split("/")[:-1]
        package = package[: len(package) - (level - 1)] if level > 1 else package
        module = ".".join([*package, module] if module else package)
    parts = module.split(".")
    return [modules[m] for m in (".".join(parts[:i]) for i in range(len(parts), 0, -1)) if m in modules]


def _shadow_findings(fileset: FileSet, prefix: str, reachable: set[str]) -> list[Finding]:
    """Top-level modules that would be imported instead of the runner's own (the artifact folder comes first on
    sys.path): the SDK, the MAC shims, openai, startup hooks (medium); standard-library names (low)."""
    out = []
    for f in fileset.files:
        parts = f.rel.split("/")
        if len(parts) == 1 and f.rel.endswith(_PY):
            top = parts[0].rsplit(".", 1)[0]
        elif len(parts) == 2 and parts[1] == "__init__.py":
            top = parts[0]
        else:
            continue
        if top in _SHADOWED:
            severity, why = "medium", "replaces a module the runner or the SDK imports"
        elif top in sys.stdlib_module_names:
            severity, why = "low", "shadows a standard-library module"
        else:
            continue
        out.append(Finding(rule="fs.shadow", severity=severity, type="verifier_tampering", path=prefix + f.rel,
                           reachable=f.rel in reachable, message=f"the module {top!r} {why}"))
    return out


def _finding(hit: Hit, rel: str, lines: list[str]) -> Finding:
    return Finding(rule=hit.rule, severity=hit.severity, type=hit.type, path=rel, line=hit.line,  # type: ignore[arg-type]
                   excerpt=_excerpt(lines, hit.line), message=hit.message)


def _excerpt(lines: list[str], line: int) -> str:
    return lines[line - 1].strip()[:200] if 0 < line <= len(lines) else ""


def _skip_finding(skip: Skip, prefix: str) -> Finding:
    if skip.reason.startswith("symlink"):
        target = skip.reason.split("-> ", 1)[-1]
        risky = P.classify_path(target)
        severity = "medium" if risky and risky[0] in ("medium", "high") else "low"
        return Finding(rule="fs.symlink", severity=severity, type="ground_truth_access", path=prefix + skip.rel,
                       message=f"a symlink to {target} (not followed, not part of the artifact)")
    if skip.reason == "hardlink":
        return Finding(rule="fs.hardlink", severity="low", type="ground_truth_access", path=prefix + skip.rel,
                       message="a file with several hard links (not read: it may be a file from elsewhere)")
    unread_code = skip.rel.endswith(_PY) and skip.reason.startswith(("too large", "limit"))
    return Finding(rule="scan.skipped", severity="medium" if unread_code else "info", type="other",
                   path=prefix + skip.rel, message=f"not scanned: {skip.reason}")
