"""The import preamble LiveCodeBench runs before every candidate program, so that solutions may use `deque`,
`heappush`, `sqrt`, `sys`, ... without importing them. The same modules in the same order (star imports first,
so that `from builtins import *` restores names such as `pow` that `from math import *` shadowed, then the plain
imports, so that `datetime` is the module), then the recursion limit of MAC's executor (LiveCodeBench's own
checker uses 50000)."""

from __future__ import annotations

STAR_IMPORTS = ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
                "statistics", "itertools", "functools", "operator", "io", "sys", "json", "builtins", "typing")
PLAIN_IMPORTS = ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
                 "statistics", "itertools", "functools", "operator", "io", "sys", "json")
RECURSION_LIMIT = 500_000

PREAMBLE = "".join(
    [f"from {name} import *\n" for name in STAR_IMPORTS]
    + [f"import {name}\n" for name in PLAIN_IMPORTS]
    + [f"sys.setrecursionlimit({RECURSION_LIMIT})\n"])
