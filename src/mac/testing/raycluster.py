"""A loopback Ray cluster of several nodes on this machine, for the Ray executor's tests and bench/executor.py.

    with LocalRayCluster(nodes=2) as cluster:           # `mac ray start --head`, then `mac ray start --address`
        subprocess.run([..., "mac", "run", "--executor", "ray", "--ray-address", cluster.address], env=cluster.env)
        os.kill(cluster.raylet(1), signal.SIGKILL)       # the second node dies

Each node is a `mac ray start --block` process tree with its own temp dir, on LOOPBACK (127.0.0.2: Ray 2.60
rewrites the literal 127.0.0.1 into the machine's LAN address, see mac.trial.executors.cluster), with ports
outside the worker port range, no dashboard, no usage statistics, and one auth token (in `env`, with
RAY_AUTH_MODE=token: how Ray 2.60 drivers send it). The second and later nodes carry the resource
`node_<i>: 1` so a test can tell them apart. `stop` signals only the processes it started (every process ever
seen in those trees, checked by start time so a reused pid is left alone): SIGTERM, then SIGKILL (gcs_server
needs it), then removes the temp dirs.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.2"
MAC = [sys.executable, "-c", "from mac.cli import app; app()"]


class LocalRayCluster:
    def __init__(self, nodes: int = 2, *, cpus: int = 2, sandboxes: int = 2):
        self.nodes, self.cpus, self.sandboxes = nodes, cpus, sandboxes
        self.port = free_port()
        self.address = f"{LOOPBACK}:{self.port}"
        self.env = {**os.environ, "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_AUTH_MODE": "token",
                    "RAY_USAGE_STATS_ENABLED": "0"}
        self.dirs: list[Path] = []
        self.roots: list[subprocess.Popen[bytes]] = []
        self._logs: list[Any] = []
        self._seen: dict[int, str] = {}

    def __enter__(self) -> LocalRayCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        for node in range(self.nodes):
            folder = Path(tempfile.mkdtemp(prefix="mr", dir="/tmp"))  # short: Ray's socket paths must fit
            self.dirs.append(folder)
            args = ["--block", "--node-ip-address", LOOPBACK, "--num-cpus", str(self.cpus), "--sandboxes",
                    str(self.sandboxes), "--dashboard-agent-listen-port", str(free_port()), "--temp-dir", str(folder)]
            if node == 0:
                args += ["--head", "--port", str(self.port), "--include-dashboard=false",
                         "--ray-client-server-port", str(free_port())]
            else:
                args += ["--address", self.address, "--resources", json.dumps({f"node_{node}": 1})]
            log = open(folder.with_suffix(".log"), "wb")
            self._logs.append(log)
            self.roots.append(subprocess.Popen([*MAC, "ray", "start", *args], env=self.env, stdout=log,
                                               stderr=subprocess.STDOUT, start_new_session=True))
            self._wait_nodes(node + 1)

    def nodes_info(self) -> list[dict[str, Any]]:
        """ray.nodes() of the live nodes, read by a short driver of its own."""
        probe = textwrap.dedent(f'''
            import json, ray
            ray.init(address="{self.address}", log_to_driver=False)
            print(json.dumps([n for n in ray.nodes() if n["Alive"]]))
        ''')
        done = subprocess.run([sys.executable, "-c", probe], env=self.env, capture_output=True, text=True, timeout=90)
        if done.returncode != 0:
            raise RuntimeError(f"ray.nodes() failed: {done.stderr[-2000:]}")
        nodes: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
        return nodes

    def node_names(self) -> dict[str, str]:
        """Node id -> "head" or "node_<i>"."""
        return {n["NodeID"]: next((k for k in n["Resources"] if k.startswith("node_") and k[5:].isdigit()), "head")
                for n in self.nodes_info()}

    def _wait_nodes(self, count: int) -> None:
        deadline, last = time.time() + 120, ""
        while time.time() < deadline:
            self.remember()
            try:
                if sum(1 for n in self.nodes_info() if n["Resources"].get("mac_sandbox")) == count:
                    return
            except (RuntimeError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
                last = str(exc)
            time.sleep(1)
        logs = "\n".join(Path(log.name).read_text(errors="replace")[-1500:] for log in self._logs)
        raise RuntimeError(f"the cluster did not reach {count} node(s): {last[-1500:]}\n{logs}")

    def remember(self) -> None:
        """Note every process of ours now (a killed raylet's workers live on as orphans for a while)."""
        for root in self.roots:
            for pid in [root.pid, *descendants(root.pid)]:
                self._seen.setdefault(pid, started(pid))

    def raylet(self, node: int) -> int:
        [pid] = [p for p in descendants(self.roots[node].pid) if process_name(p) == "raylet"]
        return pid

    def rss_mb(self, node: int) -> float:
        """Resident memory of one node: its whole process tree (Ray's daemons and its idle workers)."""
        return sum(rss_kb(p) for p in [self.roots[node].pid, *descendants(self.roots[node].pid)]) / 1024

    def stop(self) -> None:
        self.remember()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid, since in self._seen.items():
                if since and started(pid) == since:
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
            for root in self.roots:
                try:
                    root.wait(10)
                except subprocess.TimeoutExpired:
                    pass
            time.sleep(0.5)
        for log in self._logs:
            log.close()
            Path(log.name).unlink(missing_ok=True)
        for folder in self.dirs:
            shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    """A free TCP port on LOOPBACK (from the ephemeral range: outside Ray's worker ports, 10002-19999)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def descendants(pid: int) -> list[int]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def started(pid: int) -> str:
    """The process's start time (clock ticks since boot): with the pid, who it is."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
