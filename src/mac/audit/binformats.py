"""Values out of binary data formats, read without running anything: pickle, .npy/.npz, SQLite, zip.

- pickle: never loaded. `pickletools.genops` walks its opcodes (a parser, not the unpickler), and the scalars
  they push (ints, strings, floats) are read in order; a string followed by an answer-like scalar is a key.
- .npy: the header is a literal dict (read with ast.literal_eval, bounded); numeric, unicode and byte-string
  arrays are unpacked with `struct`; object arrays are pickles (walked as above, never loaded). No numpy needed,
  and allow_pickle does not exist here.
- SQLite: a private copy opened read-only and immutable, only ordinary tables read (no views, no virtual
  tables, no triggers run by a SELECT), a row cap, and a progress handler that aborts a query past its deadline.
- zip (and .npz): members read through a size cap, so a zip bomb stops at the cap.

Each reader returns tables (mac.audit.tables.Table) and hands nested blobs (zip members, SQLite BLOB cells) to
`nested(data, name)`, the caller's decoder, which keeps its own byte and depth budget.
"""

from __future__ import annotations

import ast
import io
import math
import pickletools
import sqlite3
import struct
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any
from collections.abc import Callable

from mac.audit.tables import ANSWER_FIELDS, KEY_FIELDS, MAX_ROWS, MIN_TABLE, Table, canon, tables_in_rows

Nested = Callable[[bytes, str], bool]
"""Decode a nested blob; False when the decoding budget is spent (stop handing more)."""
MAX_OPS = 2_000_000
MAX_ARRAY = 1_000_000
MAX_MEMBERS = 256
MAX_DB_TABLES = 50
_INT_OPS = {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"}
_STR_OPS = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
            "BINBYTES", "SHORT_BINBYTES", "BINBYTES8"}
_FLOAT_OPS = {"FLOAT", "BINFLOAT"}
NPY_MAGIC = b"\x93NUMPY"
SQLITE_MAGIC = b"SQLite format 3\x00"
ZIP_MAGIC = b"PK\x03\x04"


# -- pickle ----------------------------------------------------------------------------------------------
def pickle_scalars(data: bytes) -> list[Any]:
    """The scalars a pickle pushes, in order (bytes read as latin-1 text); [] when it is not a pickle."""
    out: list[Any] = []
    try:
        for n, (op, arg, _) in enumerate(pickletools.genops(io.BytesIO(data))):
            if n > MAX_OPS or op.name == "STOP":
                break
            if op.name in _INT_OPS or op.name in _FLOAT_OPS:
                out.append(arg)
            elif op.name in _STR_OPS:
                out.append(arg.decode("latin-1") if isinstance(arg, (bytes, bytearray)) else arg)
    except (ValueError, KeyError, TypeError, EOFError, struct.error, UnicodeDecodeError):
        pass  # not a pickle, or a torn one: what was read so far stands
    return out


def pickle_tables(data: bytes, line: int, out: list[Table]) -> None:
    """A pickle's answer-like scalars in order, and the (key, value) pairs it pushes (never unpickled)."""
    scalars = pickle_scalars(data)
    values = [v for v in (canon(s) for s in scalars) if v is not None]
    if len(values) >= MIN_TABLE:
        out.append(Table(line, values, None, f"{len(values)} answer-like values pickled in order"))
    keys, vals = _pickled_pairs(scalars)
    if len(vals) >= MIN_TABLE:
        out.append(Table(line, vals, keys, f"{len(vals)} pickled key/answer pairs"))
    if len(values) == len(scalars) and len(values) >= 2 * MIN_TABLE:  # {0: 33, 1: 7, ...} pushes 0, 33, 1, 7
        n = len(values) // 2
        out.append(Table(line, values[1:2 * n:2], scalars[0:2 * n:2], f"{n} pickled pairs of answer-like values"))


def _pickled_pairs(scalars: list[Any]) -> tuple[list[Any], list[str]]:
    """`{key: answer}` pushes key then value; records push "question", q, "answer", a: both become (key, answer)."""
    keys: list[Any] = []
    vals: list[str] = []
    last_key: Any = None
    i = 0
    while i < len(scalars) - 1:
        here, after = scalars[i], canon(scalars[i + 1])
        if isinstance(here, str) and here.lower() in KEY_FIELDS and isinstance(scalars[i + 1], (str, int)):
            last_key, i = scalars[i + 1], i + 2
        elif isinstance(here, str) and here.lower() in ANSWER_FIELDS and after is not None:
            keys.append(last_key)
            vals.append(after)
            i += 2
        elif isinstance(here, (str, int)) and not isinstance(here, bool) and after is not None \
                and canon(here) is None:
            keys.append(here)
            vals.append(after)
            i += 2
        else:
            i += 1
    return keys, vals


# -- .npy / .npz -----------------------------------------------------------------------------------------
def npy_tables(data: bytes, line: int, out: list[Table]) -> None:
    """An .npy array's values (flattened, in order), and for an (n, 2) array column 2 keyed by column 1."""
    parsed = _npy_header(data)
    if parsed is None:
        return
    descr, shape, fortran, body = parsed
    count = math.prod(shape) if shape else 1
    if isinstance(descr, str) and descr[1:2] == "O":
        pickle_tables(body, line, out)
        return
    items = _npy_values(descr, min(count, MAX_ARRAY), body)
    if items is None:
        return
    values = [canon(v) for v in items]
    picked = [v for v in values if v is not None]
    if len(picked) >= MIN_TABLE:
        out.append(Table(line, picked, None, f"array of {len(values)} values, shape {tuple(shape)}"))
    if len(shape) == 2 and shape[1] == 2 and not fortran and len(items) >= 2 * MIN_TABLE:
        keys, second = items[0::2], values[1::2]
        pairs = [(k, v) for k, v in zip(keys, second) if v is not None]
        out.append(Table(line, [v for _, v in pairs], [k for k, _ in pairs], f"array of {shape[0]} (key, value) rows"))


def _npy_header(data: bytes) -> tuple[Any, tuple[int, ...], bool, bytes] | None:
    if not data.startswith(NPY_MAGIC) or len(data) < 12:
        return None
    major = data[6]
    size, start = (struct.unpack("<H", data[8:10])[0], 10) if major == 1 else (struct.unpack("<I", data[8:12])[0], 12)
    if size > 1 << 16:
        return None
    try:
        header = ast.literal_eval(data[start:start + size].decode("latin-1"))
        descr, shape, fortran = header["descr"], tuple(int(n) for n in header["shape"]), bool(header["fortran_order"])
    except (ValueError, SyntaxError, KeyError, TypeError, RecursionError, MemoryError):
        return None
    return descr, shape, fortran, data[start + size:]


def _npy_values(descr: Any, count: int, body: bytes) -> list[Any] | None:
    if not isinstance(descr, str) or len(descr) < 3:
        return None  # structured dtypes are not tables of scalars
    endian = ">" if descr[0] == ">" else "<"
    kind, size = descr[1], int(descr[2:]) if descr[2:].isascii() and descr[2:].isdigit() else 0
    try:
        if kind in "iu" and size in (1, 2, 4, 8):
            code = {1: "b", 2: "h", 4: "i", 8: "q"}[size]
            code = code.upper() if kind == "u" else code
            return list(struct.unpack_from(f"{endian}{count}{code}", body))
        if kind == "f" and size in (2, 4, 8):
            return list(struct.unpack_from(f"{endian}{count}{ {2: 'e', 4: 'f', 8: 'd'}[size]}", body))
        if kind == "U" and size:
            codec = "utf-32-be" if endian == ">" else "utf-32-le"
            return [body[i * 4 * size:(i + 1) * 4 * size].decode(codec, "replace").rstrip("\x00")
                    for i in range(min(count, len(body) // (4 * size)))]
        if kind == "S" and size:
            return [body[i * size:(i + 1) * size].rstrip(b"\x00").decode("latin-1")
                    for i in range(min(count, len(body) // size))]
    except struct.error:
        return None
    return None


# -- zip -------------------------------------------------------------------------------------------------
def zip_members(data: bytes, cap: Callable[[], int], nested: Nested) -> None:
    """Each member (at most MAX_MEMBERS), read through `cap()` bytes (what the budget has left), handed to
    `nested` until it says the budget is spent."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist()[:MAX_MEMBERS]:
                if info.is_dir():
                    continue
                with archive.open(info) as member:
                    if not nested(member.read(max(0, cap())), info.filename):
                        return
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError):
        pass  # encrypted, torn or odd: whatever was read stands


# -- SQLite ----------------------------------------------------------------------------------------------
def sqlite_tables(data: bytes, line: int, out: list[Table], deadline: float, nested: Nested) -> None:
    """The ordinary tables of a SQLite database, as columns (mac.audit.tables.tables_in_rows)."""
    with tempfile.TemporaryDirectory(prefix="mac-audit-db-") as folder:
        path = Path(folder) / "copy.sqlite"
        path.write_bytes(data)
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        except sqlite3.Error:
            return
        try:
            conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
            conn.execute("PRAGMA trusted_schema = OFF")
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' "
                f"LIMIT {MAX_DB_TABLES}")]
            for name in names:
                quoted = '"' + str(name).replace('"', '""') + '"'
                rows = conn.execute(f"SELECT * FROM {quoted} LIMIT {MAX_ROWS}").fetchall()
                tables_in_rows([list(r) for r in rows], line, out, what=f"rows of table {str(name)[:40]!r}")
                for blob in [c for r in rows[:1000] for c in r if isinstance(c, bytes) and len(c) >= 16][:20]:
                    if not nested(blob, f"{name}.blob"):
                        break
        except sqlite3.Error:
            pass  # corrupt, encrypted or interrupted at the deadline: what was read stands
        finally:
            conn.close()
