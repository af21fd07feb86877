"""The call rules of the AST scan (a mixin of mac.audit.pyscan's visitor): exec and reflection, processes and
namespaces, network calls, model clients. Each `check_*` gets the call's qualified name, its last part and the node.
"""

from __future__ import annotations

import ast
from typing import Any
from collections.abc import Callable

from mac.audit import patterns as P
from mac.audit.fold import fold, is_built, is_obfuscated

_EVASIVE_SIGNALS = {"signal.SIGTERM", "signal.SIGINT", "signal.SIGHUP", "signal.SIGXCPU", "signal.SIGXFSZ",
                    "signal.SIGQUIT"}
_HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "request", "urlopen", "ws_connect", "stream", "fetch",
               "Request", "urlretrieve"}
_REFLECT_TARGETS = {"os", "sys", "subprocess", "socket", "ctypes", "importlib", "shutil", "signal"}


class CallChecks:
    """Needs from the visitor: qual, hit, add_payload, check_module, loops, tainted, sets_litellm_base."""

    qual: Callable[[ast.AST], str | None]
    hit: Callable[..., None]
    add_payload: Callable[[ast.AST, ast.AST], None]
    check_module: Callable[..., None]
    loops: int
    tainted: set[str]
    sets_litellm_base: bool

    def check_exec(self, name: str, last: str, node: ast.Call) -> None:
        if name in P.EXEC_CALLS and node.args:
            arg = node.args[0]
            if is_obfuscated(arg, self.qual, P.DECODER_CALLS, self.tainted):
                self.hit("dyn.exec_obfuscated", "high", "obfuscated_code", node,
                         f"{name}() runs code decoded or built at run time")
                self.add_payload(node, arg)
            elif is_built(arg):
                self.hit("dyn.exec_built", "medium", "obfuscated_code", node, f"{name}() runs a string built from pieces")
            elif not isinstance(arg, ast.Constant):
                self.hit("dyn.exec", "low", "other", node, f"{name}() runs a computed string")
        elif name in P.IMPORT_CALLS and node.args:
            module = fold(node.args[0])
            if module is not None and module != "*":
                self.check_module(module, node)
            else:
                self.hit("dyn.import_computed", "medium", "obfuscated_code", node, f"{name}() of a computed module name")
        elif name in ("getattr", "builtins.getattr") and len(node.args) >= 2 and fold(node.args[1]) is None:
            target = self.reflective(node.args[0])
            if target:
                self.hit("dyn.getattr_computed", target[1], "obfuscated_code", node,
                         f"getattr on {target[0]} with a computed name")
        elif name in ("pickle.loads", "marshal.loads", "types.CodeType", "types.FunctionType") and node.args \
                and (isinstance(node.args[0], ast.Constant) or name.startswith("types.")):
            self.hit("dyn.code_object", "medium", "obfuscated_code", node, f"{name}() builds code from data")

    def reflective(self, node: ast.AST) -> tuple[str, str] | None:
        """(name, severity) when `node` is builtins or a namespace dict (high) or os/sys/... itself (medium)."""
        for sub in ast.walk(node):
            name = self.qual(sub.func) if isinstance(sub, ast.Call) else self.qual(sub)
            if name in ("builtins", "__builtins__", "globals", "vars", "locals"):
                return name, "high"
        name = self.qual(node)
        return (name, "medium") if name in _REFLECT_TARGETS else None

    def check_process(self, name: str, last: str, node: ast.Call) -> None:
        receiver = self.qual(node.func.value) if isinstance(node.func, ast.Attribute) else ""
        if name in P.OS_PRIVILEGE_CALLS or last in P.DANGEROUS_NATIVE_CALLS or last == "syscall" or (
                last in ("mount", "umount", "umount2") and "libc" in (receiver or "").lower()):
            self.hit("proc.namespace", "critical", "sandbox_escape", node, f"calls {name or last} (namespace/privilege)")
        elif name in P.SHELL_CALLS or (name in P.SUBPROCESS_CALLS and (_kw_true(node, "shell") or _shell_argv(node))):
            self.hit("proc.shell", "low", "other", node, f"{name} runs a shell command")
        elif name in ("os.fork", "os.forkpty"):
            if self.loops:
                self.hit("proc.fork_storm", "medium", "verifier_tampering", node, f"{name}() inside a loop")
            else:
                self.hit("proc.fork", "low", "other", node, f"{name}()")
        elif name == "signal.signal" and len(node.args) == 2 and self.qual(node.args[0]) in _EVASIVE_SIGNALS \
                and self.qual(node.args[1]) == "signal.SIG_IGN":
            self.hit("proc.signal_ignore", "medium", "verifier_tampering", node,
                     f"ignores {self.qual(node.args[0])}, which the runner uses to stop it")
        elif name in ("os.kill", "os.killpg") and node.args and _targets_others(node.args[0], self.qual):
            self.hit("proc.kill_other", "medium", "verifier_tampering", node, f"{name}() aimed at another process")
        elif name in ("os.setsid", "os.setpgrp", "os.setpgid", "os.daemon"):
            self.hit("proc.detach", "low", "verifier_tampering", node, f"{name}() leaves its process group")
        elif name == "sys.setrecursionlimit" and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, int) and node.args[0].value >= 100_000:
            self.hit("proc.recursion", "low", "other", node, "raises the recursion limit very high")
        elif name == "resource.setrlimit":
            self.hit("proc.rlimit", "low", "verifier_tampering", node, "changes its resource limits")
        elif name == "socket.socket" and any(self.qual(a) in ("socket.SOCK_RAW", "socket.AF_PACKET", "socket.AF_NETLINK")
                                             for a in node.args):
            self.hit("net.raw_socket", "high", "sandbox_escape", node, "opens a raw, packet or netlink socket")

    def check_network(self, name: str, last: str, node: ast.Call) -> None:
        if name == "socket.create_connection" and node.args:
            hosts = self.literal_args(node)[:1]
            if hosts and not P.is_local_url(f"http://{hosts[0].strip()}"):
                self.hit("net.external_url", "high", "api_proxy_bypass", node, f"{name}() to the hard-coded host {hosts[0]}")
            return
        if not (name.startswith(P.NET_CALL_PREFIXES) or last in _HTTP_VERBS):
            return
        for text in self.literal_args(node):
            for url in P.urls_in(text):
                host = P.url_host(url)
                if host and not P.is_local_url(url):
                    kind = ("external_benchmark_fetch" if P.BENCHMARK_FETCH.search(url) or host in P.DATASET_HOSTS
                            else "unauthorized_model" if P.model_host_in(url) else "api_proxy_bypass")
                    self.hit("net.external_url", "high", kind, node, f"{name or last}() to the hard-coded host {host}")
                    return

    def check_clients(self, name: str, last: str, node: ast.Call) -> None:
        if last in P.OPENAI_CLIENTS:
            if last.startswith(("Azure", "AsyncAzure")):
                self.hit("provider.azure", "high", "unauthorized_model", node, f"builds an {last} client")
            for kw in node.keywords:
                if kw.arg in P.BASE_URL_KEYWORDS:
                    self.check_base_url(kw.value, node, f"{last}({kw.arg}=...)")
        elif name in P.LITELLM_CALLS:
            bases = [kw for kw in node.keywords if kw.arg in ("api_base", "base_url")]
            for kw in bases:
                self.check_base_url(kw.value, node, f"{name}({kw.arg}=...)")
            if not bases and not self.sets_litellm_base:
                self.hit("provider.litellm_default", "medium", "api_proxy_bypass", node,
                         f"{name}() without api_base goes to the provider, not the gateway")
        elif name in P.DATASET_CALLS:
            self.hit("bench.fetch", "high", "external_benchmark_fetch", node, f"{name}() downloads a dataset")

    def check_base_url(self, value: ast.AST, node: ast.AST, what: str) -> None:
        text = (fold(value) or "").strip()
        if not text or text == "*":
            return
        if "://" in text and P.is_local_url(text):
            self.hit("provider.base_url_local", "low", "api_proxy_bypass", node, f"{what} hard-codes a local URL")
        elif "://" in text or P.model_host_in(text):
            kind = "unauthorized_model" if P.model_host_in(text) else "api_proxy_bypass"
            self.hit("provider.base_url", "high", kind, node, f"{what} hard-codes {text[:80]!r} instead of the gateway")

    def literal_args(self, node: ast.Call) -> list[str]:
        out = []
        for arg in list(node.args) + [k.value for k in node.keywords]:
            if isinstance(arg, ast.Tuple) and arg.elts:
                arg = arg.elts[0]
            text = fold(arg)
            if text:
                out.append(text)
        return out


def _shell_argv(node: ast.Call) -> bool:
    """subprocess.run(["bash", "-c", ...]): a shell by argv."""
    argv = node.args[0] if node.args else None
    if not isinstance(argv, (ast.List, ast.Tuple)) or len(argv.elts) < 2:
        return False
    first, second = (fold(e) for e in argv.elts[:2])
    return (first or "").rsplit("/", 1)[-1] in ("sh", "bash", "zsh", "dash") and second == "-c"


def _kw_true(node: ast.Call, name: str) -> bool:
    return any(kw.arg == name and isinstance(kw.value, ast.Constant) and kw.value.value is True for kw in node.keywords)


def _targets_others(arg: ast.AST, qual: Callable[[ast.AST], Any]) -> bool:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, int):
        return arg.value in (1, -1, 0) or arg.value > 1
    if isinstance(arg, ast.UnaryOp) and isinstance(arg.op, ast.USub):
        return True
    return isinstance(arg, ast.Call) and qual(arg.func) == "os.getppid"
