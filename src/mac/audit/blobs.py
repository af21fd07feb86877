"""Answer tables in data of any format, and in the encoded or compressed blobs inside it, decoded within limits.

    tables = data_tables(data, "cache/answers.yaml", DecodeBudget(deadline))

Recognised by content first, then by name:
- compressed: gzip, zlib, bz2, xz and lzma (decompressed through a cap, so a bomb stops at the cap);
- containers and binary formats: zip and .npz, SQLite, pickle (opcodes only, never loaded), .npy
  (mac.audit.binformats);
- text: JSON and JSON lines, YAML (safe loader), TOML, CSV/TSV/;/| (delimiter sniffed), and every text line by
  line (mac.audit.tables.tables_in_lines); in other binary data, its runs of printable text (a git object's
  content after its header, strings inside a blob);
- encodings inside text or Python literals: base64 (standard and URL-safe), base32 and hex runs, and raw
  deflate inside them. A decoded blob is recognised again, from the top.

Bounds, so that a hostile file costs a bounded amount: at most MAX_DEPTH nested decodings, MAX_DECODED bytes
decoded per file, MAX_BLOBS encoded runs tried per file, structured parsers only on texts below MAX_PARSE bytes
(deep nesting makes them raise, which is caught), and the scan's deadline checked at every step.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import csv
import io
import json
import lzma
import re
import time
import tomllib
import zlib
from dataclasses import dataclass
from collections.abc import Callable

from mac.audit.binformats import (NPY_MAGIC, SQLITE_MAGIC, ZIP_MAGIC, npy_tables, pickle_tables, sqlite_tables,
                                  zip_members)
from mac.audit.tables import MAX_ROWS, Table, iter_lines, tables_in_lines, tables_in_rows, tables_in_value

MAX_DEPTH = 3
MAX_DECODED = 16 << 20
MAX_BLOBS = 200
MAX_PARSE = 4 << 20
MAX_TEXT_RUNS = 64
_TEXT_RUN = re.compile(rb"[\t\n\r\x20-\x7e]{64,}")
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{32,}={0,2}")  # starts only where a run starts
_HEX_RUN = re.compile(r"^(?:[0-9a-fA-F]{2})+$")
_B32_RUN = re.compile(r"^[A-Z2-7]+=*$")
_B64_ONLY = re.compile(r"^[A-Za-z0-9+/=_\-\s]+$")
_COMPRESSED = (".gz", ".gzip", ".bz2", ".xz", ".lzma", ".zz", ".z")
_PICKLE_NAMES = (".pkl", ".pickle", ".pck", ".joblib", ".pt", ".pth")


@dataclass
class DecodeBudget:
    """What decoding one file may still spend. `deadline` is a time.monotonic() value."""

    deadline: float
    decoded: int = MAX_DECODED
    blobs: int = MAX_BLOBS

    def expired(self) -> bool:
        return time.monotonic() > self.deadline


OnData = Callable[[bytes | str], None]
"""Called with every piece of data the decoder visits (the file's bytes, each decompressed or decoded blob)."""


def data_tables(data: bytes, name: str, budget: DecodeBudget, *, depth: int = 0, line: int = 1,
                via: str = "", on_data: OnData | None = None) -> list[Table]:
    """Every table in `data` (a file's bytes or a decoded blob), whatever its format."""
    out: list[Table] = []
    _Decoder(budget, out, on_data).visit(data, name, depth, line, via)
    return out


def literal_blob_tables(tree: ast.AST, budget: DecodeBudget, on_data: OnData | None = None) -> list[Table]:
    """Tables inside the encoded or compressed string and bytes literals of a parsed Python module."""
    out: list[Table] = []
    decoder = _Decoder(budget, out, on_data)
    for node in ast.walk(tree):
        if budget.expired() or budget.blobs <= 0:
            break
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes) and len(node.value) >= 16:
            budget.blobs -= 1
            decoder.visit(node.value, "literal", 1, node.lineno, "a bytes literal")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) >= 32:
            decoder.blobs_in_text(node.value, "literal", 0, node.lineno, "a string literal")
    return out


class _Decoder:
    def __init__(self, budget: DecodeBudget, out: list[Table], on_data: OnData | None = None):
        self.budget, self.out, self.on_data = budget, out, on_data

    def visit(self, data: bytes, name: str, depth: int, line: int, via: str) -> None:
        if self.budget.expired() or depth > MAX_DEPTH or not data:
            return
        if self.on_data is not None:
            self.on_data(data)
        start = len(self.out)
        unpacked = decompress(data, max(0, self.budget.decoded))
        if unpacked is not None:
            kind, payload = unpacked
            self.budget.decoded -= len(payload)
            inner = name[: name.rfind(".")] if name.lower().endswith(_COMPRESSED) else name
            self.visit(payload, inner, depth + 1, line, _join(via, f"{kind} data"))
            return
        nested = lambda blob, member: self._nested(blob, member, depth, line, via)  # noqa: E731
        if data.startswith(ZIP_MAGIC):
            zip_members(data, lambda: self.budget.decoded, nested)
        elif data.startswith(NPY_MAGIC):
            npy_tables(data, line, self.out)
        elif data.startswith(SQLITE_MAGIC):
            sqlite_tables(data, line, self.out, self.budget.deadline, nested)
        elif _looks_pickled(data, name):
            pickle_tables(data, line, self.out)
        else:
            text = as_text(data)
            if text is not None:
                self.text(text, name, depth, line, via)
            else:  # binary: the text inside it (a git object's content after its header, strings in a blob)
                inner = _join(via, "text in binary data")
                for run in _TEXT_RUN.findall(data[:MAX_DECODED])[:MAX_TEXT_RUNS]:
                    self.text(run.decode("ascii"), name, depth, line, inner)
                for table in self.out[start:]:
                    table.via = table.via or inner
        for table in self.out[start:]:
            table.via = table.via or via

    def _nested(self, blob: bytes, member: str, depth: int, line: int, via: str) -> bool:
        self.budget.decoded -= len(blob)
        if self.budget.decoded < 0 or self.budget.expired():
            return False
        self.visit(blob, member, depth + 1, line, _join(via, f"member {member[:60]}"))
        return self.budget.decoded > 0

    def text(self, text: str, name: str, depth: int, line: int, via: str) -> None:
        low = name.lower()
        if len(text) <= MAX_PARSE:
            if text.lstrip()[:1] in ("[", "{") or low.endswith((".json", ".jsonl", ".ndjson")):
                _json_tables(text, line, self.out)
            if low.endswith((".yaml", ".yml")) or text.startswith("---"):
                _yaml_tables(text, line, self.out)
            if low.endswith(".toml"):
                _toml_tables(text, line, self.out)
            rows = csv_rows(text)
            if rows:
                tables_in_rows(rows, line, self.out, what="CSV rows")
        tables_in_lines(text, line, self.out)
        if len(text) <= 50_000:
            tables_in_value(text.strip(), line, self.out)  # "33, 7, 120, ..." or "CADBB..."
        if depth < MAX_DEPTH:
            self.blobs_in_text(text, name, depth, line, via)

    def blobs_in_text(self, text: str, name: str, depth: int, line: int, via: str) -> None:
        """Decode the base64 and hex runs of `text` (and `text` itself when it is all base64) and visit them."""
        runs: list[tuple[int, str]] = []
        if len(text) >= 32 and _B64_ONLY.match(text[:MAX_PARSE]) and len(text) <= MAX_PARSE:
            runs.append((0, "".join(text.split())))
        runs += [(m.start(), m.group(0)) for m in _B64_RUN.finditer(text)]
        for offset, run in runs:
            if self.budget.blobs <= 0 or self.budget.expired():
                return
            self.budget.blobs -= 1
            decoded = decode_run(run)
            if decoded is None or not interesting(decoded):
                continue
            kind, payload = decoded
            self.budget.decoded -= len(payload)
            if self.budget.decoded < 0:
                return
            at = line + text.count("\n", 0, offset)
            self.visit(payload, name, depth + 1, at, _join(via, kind))


def _join(via: str, step: str) -> str:
    return f"{via}, {step}" if via else step


def as_text(data: bytes) -> str | None:
    """UTF-8 (or Latin-1) text, or None for binary data."""
    head = data[:8192]
    if b"\x00" in head:
        return None
    text = data.decode("utf-8", errors="replace")
    bad = text[:8192].count("\ufffd")
    return text if bad <= max(8, len(head) // 50) else None


def decompress(data: bytes, cap: int) -> tuple[str, bytes] | None:
    """(kind, at most `cap` decompressed bytes) when `data` starts like gzip, zlib, bz2, xz or lzma data."""
    if cap <= 0 or len(data) < 4:
        return None
    try:
        if data[:2] == b"\x1f\x8b":
            kind, out = "gzip", zlib.decompressobj(47).decompress(data, cap)
        elif data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0:
            kind, out = "zlib", zlib.decompressobj().decompress(data, cap)
        elif data[:3] == b"BZh":
            kind, out = "bz2", bz2.BZ2Decompressor().decompress(data, cap)
        elif data[:6] == b"\xfd7zXZ\x00" or data[:3] == b"\x5d\x00\x00":
            kind, out = "lzma", lzma.LZMADecompressor().decompress(data, cap)
        else:
            return None
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return None
    return (kind, out) if out else None


def decode_run(run: str) -> tuple[str, bytes] | None:
    """A hex, base32 or base64 run decoded ("hex"/"base32"/"base64", bytes), or None."""
    try:
        if _HEX_RUN.match(run):
            return "hex", bytes.fromhex(run)
        if _B32_RUN.match(run):
            bare = run.rstrip("=")
            return "base32", base64.b32decode(bare + "=" * (-len(bare) % 8))
        padded = run + "=" * (-len(run.rstrip("=")) % 4)
        if "-" in run or "_" in run:
            return "base64", binascii.a2b_base64(padded.replace("-", "+").replace("_", "/"))
        return "base64", binascii.a2b_base64(padded)
    except (binascii.Error, ValueError):
        return None


def interesting(decoded: tuple[str, bytes]) -> bool:
    """Worth visiting: a known format, or text (random bytes such as a digest are not)."""
    _, data = decoded
    if data.startswith((ZIP_MAGIC, NPY_MAGIC, SQLITE_MAGIC, b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x80")):
        return True
    if decompress(data, 1) is not None:
        return True
    text = data[:4096]
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in text)
    return len(text) >= 8 and printable >= 0.95 * len(text)


def _looks_pickled(data: bytes, name: str) -> bool:
    return (data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")) or \
        name.lower().endswith(_PICKLE_NAMES)


def csv_rows(text: str) -> list[list[str]] | None:
    """The rows of a delimited text (",", tab, ";" or "|", sniffed from the first lines), else None."""
    lines = [ln for ln in iter_lines(text, 40) if ln.strip()]
    if len(lines) < 5:
        return None
    for delim in (",", "\t", ";", "|"):
        counts = [ln.count(delim) for ln in lines]
        if min(counts) >= 1 and counts.count(counts[0]) >= 0.8 * len(counts):
            try:
                return [row for _, row in zip(range(MAX_ROWS), csv.reader(io.StringIO(text), delimiter=delim))]
            except csv.Error:
                return None
    return None


def _json_tables(text: str, line: int, out: list[Table]) -> None:
    try:
        tables_in_value(json.loads(text), line, out)
        return
    except (ValueError, RecursionError):
        pass
    rows = []
    for raw in iter_lines(text):
        try:
            rows.append(json.loads(raw))
        except (ValueError, RecursionError):
            continue
    if rows:
        tables_in_value(rows, line, out)


def _yaml_tables(text: str, line: int, out: list[Table]) -> None:
    try:
        import yaml
    except ImportError:  # the line reader still sees `key: value` lines
        return
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe: plain data only, never Python objects
    try:
        tables_in_value(list(yaml.load_all(text, Loader=loader)), line, out)
    except (yaml.YAMLError, RecursionError, ValueError, TypeError):
        pass


def _toml_tables(text: str, line: int, out: list[Table]) -> None:
    try:
        tables_in_value(tomllib.loads(text), line, out)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        pass
