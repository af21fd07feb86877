"""The AST rules for one Python file. Parses, never imports or runs; `Hit`s become `Finding`s in mac.audit.scan.

Names are resolved through the file's imports (`import requests as r; r.get(...)` is `requests.get`), so
aliasing does not hide a call. Strings are checked after constant folding, and literal payloads fed through
decoders are decoded (bounded) and handed back for a nested scan.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from mac.audit import patterns as P
from mac.audit.fold import decode_payload, fold, is_obfuscated
from mac.audit.pycalls import CallChecks

_FILE_LISTING = {"os.listdir", "os.scandir", "os.walk", "glob.glob", "glob.iglob", "pathlib.Path.iterdir",
                 "pathlib.Path.glob", "pathlib.Path.rglob"}
_DATA_SUFFIXES = (".json", ".jsonl", ".txt", ".csv", ".tsv", ".pkl", ".pickle", ".npy", ".yaml", ".yml", ".py")
_ENV_GETTERS = {"os.environ.get", "os.getenv", "os.environ.setdefault", "os.environ.pop", "os.getenvb"}
_ENV_DUMPS = {"os.environ.copy", "os.environ.items", "os.environ.keys", "os.environ.values"}


@dataclass
class Hit:
    rule: str
    severity: str
    type: str
    line: int
    message: str


@dataclass
class PyScan:
    hits: list[Hit] = field(default_factory=list)
    tree: ast.Module | None = None
    imports: list[tuple[str, int]] = field(default_factory=list)
    """(module, level) of every import, for reachability."""
    file_refs: set[str] = field(default_factory=set)
    lists_files: bool = False
    payloads: list[tuple[int, bytes]] = field(default_factory=list)


def scan_python(source: str) -> PyScan:
    """Parse and apply every rule. Raises SyntaxError/ValueError/RecursionError when `source` does not parse."""
    return scan_tree(ast.parse(source))


def scan_tree(tree: ast.Module) -> PyScan:
    """Apply every rule to a parsed module. The walk is iterative, so deep nesting cannot stop it half-way."""
    visitor = _Visitor()
    visitor.prepare(tree)
    visitor.run(tree)
    visitor.out.tree = tree
    return visitor.out


class _Visitor(CallChecks):
    def __init__(self) -> None:
        self.out = PyScan()
        self.aliases: dict[str, str] = {}
        self.assigned: dict[str, ast.AST] = {}
        self.tainted: set[str] = set()
        self.loops = 0
        self.sets_litellm_base = False
        self._seen: set[tuple[str, int]] = set()
        self._inner: set[int] = set()
        self._bare: set[int] = set()

    # -- setup: imports and taint are flow-insensitive --------------------------------------------------
    def prepare(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.assigned[node.targets[0].id] = node.value
            elif isinstance(node, ast.Assign):
                self.sets_litellm_base |= any(self.qual(t) in ("litellm.api_base", "litellm.base_url")
                                              for t in node.targets)
        for _ in range(3):  # names assigned from decoders, then names assigned from those
            for name, value in self.assigned.items():
                if name not in self.tainted and is_obfuscated(value, self.qual, P.DECODER_CALLS, self.tainted):
                    self.tainted.add(name)

    def run(self, tree: ast.Module) -> None:
        stack: list[tuple[ast.AST, bool]] = [(tree, False)]
        while stack:
            node, in_loop = stack.pop()
            self.loops = int(in_loop)
            method = getattr(self, "visit_" + type(node).__name__, None)
            if method is not None:
                method(node)
            in_loop = in_loop or isinstance(node, (ast.For, ast.AsyncFor, ast.While))
            stack.extend((child, in_loop) for child in ast.iter_child_nodes(node))

    def qual(self, node: ast.AST, depth: int = 0) -> str | None:
        """The dotted name an expression stands for, through the file's import aliases (None: not a name)."""
        attrs: list[str] = []
        while isinstance(node, ast.Attribute) and len(attrs) < 50:
            attrs.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            base = self.aliases.get(node.id, node.id)
        elif isinstance(node, ast.Call) and depth < 5 and len(node.args) >= 2 \
                and self.qual(node.func, depth + 1) in ("getattr", "builtins.getattr"):
            attr, target = fold(node.args[1]), self.qual(node.args[0], depth + 1)
            if not attr or not target:
                return None
            base = f"{target}.{attr}"
        else:
            return None
        return ".".join([base, *reversed(attrs)])

    def hit(self, rule: str, severity: str, kind: str, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", 0)
        if (rule, line) not in self._seen:
            self._seen.add((rule, line))
            self.out.hits.append(Hit(rule, severity, kind, line, message))

    # -- imports ---------------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self.out.imports.append((a.name, 0))
            self.check_module(a.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self.out.imports.append((module, node.level))
        for a in node.names:
            self.out.imports.append((f"{module}.{a.name}" if module else a.name, node.level))
        if not node.level:
            self.check_module(module, node)
            for a in node.names:
                self.check_module(f"{module}.{a.name}", node, submodule_only=True)

    def check_module(self, name: str, node: ast.AST, submodule_only: bool = False) -> None:
        parts = name.split(".")
        prefixes = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
        if submodule_only:
            prefixes = prefixes[:1]
        for table, rule, kind in ((P.PROVIDER_MODULES, "provider.import", "unauthorized_model"),
                                  (P.DATASET_MODULES, "bench.import", "external_benchmark_fetch"),
                                  (P.PROCESS_MODULES, "proc.native", "sandbox_escape")):
            found = next((p for p in prefixes if p in table), None)
            if found:
                self.hit(rule, table[found], kind, node, f"imports {found}")
                return
        found = next((p for p in prefixes if p in P.NETWORK_MODULES), None)
        if found:
            self.hit("net.import", "low", "api_proxy_bypass", node, f"imports the network library {found}")

    # -- assignments and subscripts ------------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            name = self.qual(target) or ""
            if name.rsplit(".", 1)[-1] in ("base_url", "api_base") and name.split(".")[0] in ("openai", "litellm"):
                self.check_base_url(node.value, node, f"sets {name}")

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Load) and self.qual(node.value) == "os.environ":
            self.check_env(node.slice, node)

    # -- strings ---------------------------------------------------------------------------------------
    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            self._bare.add(id(node.value))  # a docstring or bare string: documentation, not a value in use

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, (str, bytes)):
            self.check_string(fold(node) or "", node, bare=id(node) in self._bare)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        self.check_string(fold(node) or "", node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if id(node) in self._inner:
            return  # part of a `+` chain already folded as a whole
        if isinstance(node.op, ast.Add):
            self._inner.update(id(o) for o in (node.left, node.right) if isinstance(o, ast.BinOp))
        text = fold(node)
        if text is not None:
            self.check_string(text, node)

    def check_string(self, text: str, node: ast.AST, bare: bool = False) -> None:
        """Hosts, benchmark sources and paths in a string. In a docstring they are one step less severe (still
        medium: `__doc__` can be read as a value)."""
        if not text:
            return
        strong = "medium" if bare else "high"
        host = P.model_host_in(text)
        if host:
            self.hit("provider.host", strong, "unauthorized_model", node, f"hard-codes the model API host {host}")
        if P.BENCHMARK_FETCH.search(text):
            m = P.BENCHMARK_FETCH.search(text)
            self.hit("bench.fetch", strong, "external_benchmark_fetch", node,
                     f"names a benchmark dataset or answer source ({m.group(0)})")
        elif P.BENCHMARK_NAME.search(text):
            self.hit("bench.name", "info", "external_benchmark_fetch", node,
                     f"mentions the benchmark {P.BENCHMARK_NAME.search(text).group(0)!r}")
        path = P.classify_path(text)
        if path:
            self.hit(f"fs.{'secret' if path[0] == 'high' else 'outside'}", path[0], path[1], node, path[2])
        low = text.strip().lower()
        if len(low) < 200 and low.endswith(_DATA_SUFFIXES):
            self.out.file_refs.add(low.rsplit("/", 1)[-1])

    # -- calls -----------------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        name = self.qual(node.func) or ""
        last = node.func.attr if isinstance(node.func, ast.Attribute) else name.rsplit(".", 1)[-1]
        for check in (self.check_exec, self.check_process, self.check_network, self.check_clients,
                      self.check_env_call, self.check_misc):
            check(name, last, node)
        if name in P.DECODER_CALLS:
            self.add_payload(node, node)
        if last in ("join", "Path", "PurePath", "PosixPath", "expanduser") and not isinstance(node.func, ast.Name) \
                or last in ("Path", "PurePath", "PosixPath"):
            text = fold(node)
            if text:
                self.check_string(text, node)

    def add_payload(self, node: ast.AST, expr: ast.AST) -> None:
        payload = decode_payload(expr, self.qual, self.assigned)
        if payload and (node.lineno, payload) not in self.out.payloads:
            self.out.payloads.append((node.lineno, payload))

    def check_env_call(self, name: str, last: str, node: ast.Call) -> None:
        if name in _ENV_GETTERS and node.args:
            self.check_env(node.args[0], node)
        elif name in _ENV_DUMPS or (name in ("dict", "json.dumps", "print", "str", "repr") and node.args
                                    and self.qual(node.args[0]) == "os.environ"):
            self.hit("env.dump", "low", "other", node, "reads the whole environment")

    def check_env(self, key: ast.AST, node: ast.AST) -> None:
        name = fold(key)
        if name is None:
            self.hit("env.computed", "low", "other", node, "reads an environment variable by a computed name")
            return
        verdict = P.classify_env(name)
        if verdict:
            self.hit("env.secret" if verdict[0] == "high" else "env.other", verdict[0], verdict[1], node, verdict[2])

    def check_misc(self, name: str, last: str, node: ast.Call) -> None:
        if name in _FILE_LISTING or last in ("iterdir", "rglob") or (last == "glob" and name != "glob.escape"):
            self.out.lists_files = True
        if name in ("pathlib.Path.home", "os.path.expanduser"):
            self.hit("fs.home", "low", "ground_truth_access", node, "looks into the home folder")

