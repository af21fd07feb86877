"""Constant folding and payload decoding on the AST: what a string *would* be, without running anything.

`fold` reads strings built from literals ("api.open" + "ai.com", f-strings with holes as "*", "".join of
literals, chr(...) runs, [::-1] reversals). `is_obfuscated` says whether an expression comes out of a decoder
(base64, zlib, hex, rot13, marshal, ...) or is built character by character. `decode_payload` applies the pure
decoders to literal inputs, bounded in size (a zlib bomb stops at the cap), so hidden code and tables can be
scanned too. Nothing here imports or executes the code under review.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import posixpath
import zlib
from collections.abc import Callable

MAX_PAYLOAD = 1 << 20
_MAX_FOLD = 100_000

QualFn = Callable[[ast.AST], "str | None"]


def fold(node: ast.AST, depth: int = 0) -> str | None:
    """The string an expression of literals evaluates to (holes in f-strings read "*"), or None."""
    if depth > 60:
        return None
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, bytes):
            return node.value.decode("latin-1")
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [fold(o, depth + 1) for o in add_operands(node)]
        return _cap("".join(parts)) if all(isinstance(p, str) for p in parts) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # Path("/") / "etc" / "passwd"
        left, right = fold(node.left, depth + 1), fold(node.right, depth + 1)
        return posixpath.join(left, right) if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "*" for v in node.values]
        return "".join(parts)
    if isinstance(node, ast.Subscript) and _is_reverse(node.slice):
        inner = fold(node.value, depth + 1)
        return inner[::-1] if inner is not None else None
    if isinstance(node, ast.Call):
        return _fold_call(node, depth)
    return None


def _fold_call(node: ast.Call, depth: int) -> str | None:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name in ("Path", "PurePath", "PosixPath") and len(node.args) >= 1:
        parts = [fold(a, depth + 1) for a in node.args]
        return posixpath.join(*parts) if all(p is not None for p in parts) else None
    if name == "join" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) \
            and func.value.attr == "path" and node.args:  # os.path.join("/", "etc", ...)
        parts = [fold(a, depth + 1) for a in node.args]
        return posixpath.join(*parts) if all(p is not None for p in parts) else None
    if isinstance(func, ast.Name) and func.id == "chr" and len(node.args) == 1:
        value = node.args[0]
        if isinstance(value, ast.Constant) and isinstance(value.value, int) and 0 <= value.value < 0x110000:
            return chr(value.value)
        return None
    if not isinstance(func, ast.Attribute):
        return None
    receiver = fold(func.value, depth + 1)
    if receiver is None:
        return None
    if func.attr == "join" and len(node.args) == 1 and isinstance(node.args[0], (ast.List, ast.Tuple)):
        parts = [fold(e, depth + 1) for e in node.args[0].elts]
        return _cap(receiver.join(parts)) if all(p is not None for p in parts) else None
    if func.attr == "join" and len(node.args) == 1 and _chr_comprehension(node.args[0]):
        return "*"
    if func.attr in ("decode", "encode", "strip", "lower", "upper") and not node.args:
        return receiver if func.attr not in ("lower", "upper") else getattr(receiver, func.attr)()
    if func.attr == "replace" and len(node.args) == 2:
        a, b = fold(node.args[0], depth + 1), fold(node.args[1], depth + 1)
        return _cap(receiver.replace(a, b)) if a is not None and b is not None else None
    return None


def _cap(text: str) -> str | None:
    return text if len(text) <= _MAX_FOLD else None


def _is_reverse(slice_node: ast.AST) -> bool:
    return (isinstance(slice_node, ast.Slice) and slice_node.lower is None and slice_node.upper is None
            and isinstance(slice_node.step, ast.UnaryOp) and isinstance(slice_node.step.op, ast.USub)
            and isinstance(slice_node.step.operand, ast.Constant) and slice_node.step.operand.value == 1)


def _chr_comprehension(node: ast.AST) -> bool:
    if not isinstance(node, (ast.GeneratorExp, ast.ListComp)):
        return False
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("chr", "ord")
               for n in ast.walk(node.elt))


def is_built(node: ast.AST) -> bool:
    """A string assembled from several literals (not one plain literal)."""
    return not isinstance(node, ast.Constant) and fold(node) is not None


def add_operands(node: ast.AST, limit: int = 10_000) -> list[ast.AST]:
    """The operands of a chain of `+`, left to right, without recursion (chains can be thousands long)."""
    out: list[ast.AST] = []
    stack = [node]
    while stack and len(out) < limit:
        n = stack.pop()
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            stack += [n.right, n.left]
        else:
            out.append(n)
    return out


def is_obfuscated(node: ast.AST, qual: QualFn, decoders: set[str], tainted: set[str]) -> bool:
    """Whether `node` contains a decoder's output, a name assigned from one, a chr() build or a [::-1] reversal.

    Deliberately coarse (any such piece anywhere in the expression) and iterative, so nesting cannot hide one."""
    for n, sub in enumerate(ast.walk(node)):
        if n > 20_000:
            return True  # an expression this large fed to exec is itself a way to hide what runs
        if isinstance(sub, ast.Name) and sub.id in tainted:
            return True
        if isinstance(sub, ast.Subscript) and _is_reverse(sub.slice):
            return True
        if isinstance(sub, ast.Call) and ((qual(sub.func) or "") in decoders
                                          or (isinstance(sub.func, ast.Name) and sub.func.id == "chr")):
            return True
    return False


# -- decoding literal payloads ------------------------------------------------------------------------------
def decode_payload(node: ast.AST, qual: QualFn, assigned: dict[str, ast.AST], depth: int = 0) -> bytes | None:
    """The bytes a chain of pure decoders yields on literal input (bounded), or None."""
    if depth > 12:
        return None
    if isinstance(node, ast.Name) and node.id in assigned:
        return decode_payload(assigned[node.id], qual, assigned, depth + 1)
    text = fold(node)
    if text is not None and not isinstance(node, ast.Call):
        return text.encode("latin-1", "replace") if isinstance(node, ast.Constant) and isinstance(node.value, bytes) \
            else text.encode("utf-8", "replace")
    if not isinstance(node, ast.Call):
        return None
    name = qual(node.func) or ""
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("decode", "encode") and not name.startswith("codecs"):
        return decode_payload(node.func.value, qual, assigned, depth + 1)
    if not node.args:
        return None
    data = decode_payload(node.args[0], qual, assigned, depth + 1)
    if data is None:
        return fold(node).encode("utf-8", "replace") if fold(node) is not None else None
    codec = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) else None
    try:
        out = _apply(name, data, codec)
    except (ValueError, TypeError, binascii.Error, zlib.error, lzma.LZMAError, OSError, EOFError, LookupError):
        return None
    return out[:MAX_PAYLOAD] if out is not None else None


def _apply(name: str, data: bytes, codec: object) -> bytes | None:
    short = name.rsplit(".", 1)[-1]
    if name.startswith("base64."):
        fn = getattr(base64, short, None)
        return fn(data) if fn is not None and "decode" in short else None
    if short == "a2b_base64":
        return binascii.a2b_base64(data)
    if short in ("fromhex", "unhexlify", "a2b_hex"):
        return bytes.fromhex(data.decode("ascii", "replace"))
    if name in ("zlib.decompress", "gzip.decompress"):
        return _inflate(data)
    if name == "bz2.decompress":
        return bz2.BZ2Decompressor().decompress(data, MAX_PAYLOAD)
    if name == "lzma.decompress":
        return lzma.LZMADecompressor().decompress(data, MAX_PAYLOAD)
    if name == "codecs.decode" and isinstance(codec, str):
        kind = codec.replace("_", "").replace("-", "").lower()
        if kind == "rot13":
            return codecs.decode(data.decode("utf-8", "replace"), "rot13").encode()
        if kind == "hex":
            return bytes.fromhex(data.decode("ascii", "replace"))
        if kind == "base64":
            return base64.b64decode(data)
        if kind == "zlib":
            return _inflate(data)
        if kind == "bz2":
            return bz2.BZ2Decompressor().decompress(data, MAX_PAYLOAD)
    return None


def _inflate(data: bytes) -> bytes:
    """zlib or gzip data, at most MAX_PAYLOAD bytes of output (wbits 32+15 detects the header)."""
    return zlib.decompressobj(47).decompress(data, MAX_PAYLOAD)
