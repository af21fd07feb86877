"""Artifact versions that differ only in a literal answer table: the signature of an answer search.

The evaluation service may keep each evaluated agent file as `dev_artifacts/<agent_sha256>.py` (or
`dev_artifacts/<agent_sha256>/agent.py`) in the trial folder. When it does, consecutive evaluated versions
are compared as ASTs with answer-like literal containers (3+ integers or letters) masked: equal when masked
but different when not means only the table changed. Tuning a scalar (`SAMPLES = 5` -> `7`) does not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mac.audit.tables import NotLiteral, canon, literal_value
from mac.audit.files import read_tree

MIN_VARIANT_TABLE = 3


def load_versions(folder: Path) -> dict[str, str]:
    """sha256 -> source of the kept versions (read safely; a missing folder gives {})."""
    out: dict[str, str] = {}
    for f in read_tree(folder, want=lambda name: name.endswith(".py")).files:
        sha = f.rel.split("/", 1)[0].removesuffix(".py")
        out.setdefault(sha, f.data.decode("utf-8", errors="replace"))
    return out


def literal_only_changes(folder: Path, shas: list[str]) -> list[tuple[str, str]]:
    """Consecutive (previous, next) version pairs of `shas` (evaluation order) that differ only in a table."""
    if not folder.is_dir():
        return []
    sources = load_versions(folder)
    order = [s for i, s in enumerate(shas) if s and (i == 0 or s != shas[i - 1])]
    pairs = []
    for a, b in zip(order, order[1:]):
        if a in sources and b in sources and a != b and differs_only_in_tables(sources[a], sources[b]):
            pairs.append((a[:16], b[:16]))
    return pairs


def differs_only_in_tables(a: str, b: str) -> bool:
    try:
        tree_a, tree_b = ast.parse(a), ast.parse(b)
    except (SyntaxError, ValueError, RecursionError):
        return False
    if ast.dump(tree_a) == ast.dump(tree_b):
        return False
    return ast.dump(_Mask().visit(tree_a)) == ast.dump(_Mask().visit(tree_b))


class _Mask(ast.NodeTransformer):
    def _container(self, node: ast.AST) -> ast.AST:
        try:
            value = literal_value(node, [100_000])
        except NotLiteral:
            return self.generic_visit(node)
        return ast.Constant("<TABLE>") if _is_table(value) else node

    visit_List = visit_Tuple = visit_Set = visit_Dict = _container


def _is_table(value: object) -> bool:
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, (list, tuple, set)):
        items = list(value)
    else:
        return False
    return len(items) >= MIN_VARIANT_TABLE and all(canon(v) is not None for v in items)
