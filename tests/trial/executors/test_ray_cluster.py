"""The Ray executor on a real two-node cluster on this machine (`mac ray start --head` and a second
`mac ray start --address`, each with its own temp dir, both on loopback, one auth token), real sandboxes and
the sim: a job across both nodes gives the local executor's scores, a node killed mid-trial loses nothing and
counts nothing twice, and Ctrl-C saves remote trials as interrupted for `mac run --resume`.

The tests stop only the processes they started (the `mac ray start --block` trees, by PID; gcs_server may need
SIGKILL) and remove their temp dirs. One cluster serves the whole module.

The cluster's address is 127.0.0.2 (loopback): Ray 2.60 rewrites the literal 127.0.0.1 into the machine's LAN
address (see mac.trial.executors.cluster), and a node then joins, and drivers connect, through that address.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from mac.store import Index, TrialResult, read_jsonl

pytestmark = [pytest.mark.slow]

LOOPBACK = "127.0.0.2"
MAC = [sys.executable, "-c", "from mac.cli import app; app()"]
MARKER = "8642.75"
"""The sleep of a meta-agent waiting out its budget: how the test finds its sandboxed processes."""
BUILDER = textwrap.dedent(f'''
    import pathlib, os
    pathlib.Path("agent.py").write_text(
        "from mac.sdk import BaseAgent, ModelClient, Prediction\\n"
        "class A(BaseAgent):\\n"
        "    def solve(self, problems, timeout_sec):\\n"
        "        client = ModelClient()\\n"
        "        return [Prediction(p.idx, client.chat([{{'role': 'user', 'content': p.question}}],"
        " temperature=0.0)) for p in problems]\\n")
    os.execvp("sleep", ["sleep", "{MARKER}"])
''')
"""A fixed artifact (so scores depend on the sim's seeds only), then a wait until the development deadline."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _started(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def marked_processes() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if MARKER in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry))
            except OSError:
                pass
    return found


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


class Cluster:
    def __init__(self) -> None:
        self.token = secrets.token_hex(32)
        self.port = _free_port()
        self.address = f"{LOOPBACK}:{self.port}"
        self.dirs = [Path(tempfile.mkdtemp(prefix="mr", dir="/tmp")) for _ in range(2)]
        self.env = {**os.environ, "RAY_AUTH_TOKEN": self.token, "RAY_AUTH_MODE": "token",
                    "RAY_USAGE_STATS_ENABLED": "0"}
        self.roots: list[subprocess.Popen] = []
        self.logs: list = []
        self.seen: dict[int, str] = {}
        """pid -> its start time: a pid is signalled only while it is still that process."""

    def start(self) -> None:
        common = ["--block", "--node-ip-address", LOOPBACK, "--num-cpus", "2", "--sandboxes", "2",
                  "--dashboard-agent-listen-port", str(_free_port())]
        head = ["--head", "--port", str(self.port), "--include-dashboard=false",
                "--ray-client-server-port", str(_free_port()), "--temp-dir", str(self.dirs[0])]
        self._start([*common, *head])
        self._wait_nodes(1)
        self._start([*common, "--address", self.address, "--temp-dir", str(self.dirs[1]),
                     "--resources", '{"second_node": 1}'])
        self._wait_nodes(2)

    def _start(self, args: list[str]) -> None:
        log = open(self.dirs[0].parent / f"{self.dirs[0].name}-{len(self.roots)}.log", "wb")
        self.logs.append(log)
        self.roots.append(subprocess.Popen([*MAC, "ray", "start", *args], env=self.env, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True))

    def _wait_nodes(self, count: int) -> None:
        probe = textwrap.dedent(f'''
            import ray
            ray.init(address="{self.address}", log_to_driver=False)
            print(sum(1 for n in ray.nodes() if n["Alive"] and n["Resources"].get("mac_sandbox")))
        ''')
        deadline = time.time() + 90
        while time.time() < deadline:
            self.remember()
            done = subprocess.run([sys.executable, "-c", probe], env=self.env, capture_output=True, text=True,
                                  timeout=60)
            if done.returncode == 0 and done.stdout.strip().splitlines()[-1:] == [str(count)]:
                return
            time.sleep(1)
        raise AssertionError(f"the cluster did not reach {count} node(s)")

    def remember(self) -> None:
        """Note every process of ours now (workers outlive a killed raylet as orphans)."""
        for root in self.roots:
            for pid in [root.pid, *descendants(root.pid)]:
                self.seen.setdefault(pid, _started(pid))

    def raylet(self, node: int) -> int:
        [pid] = [p for p in descendants(self.roots[node].pid) if _name(p) == "raylet"]
        return pid

    def stop(self) -> None:
        self.remember()
        for sig in (signal.SIGTERM, signal.SIGKILL):  # gcs_server may ignore SIGTERM
            for pid, started in self.seen.items():
                if _started(pid) != started:
                    continue  # gone (the pid may be another process's now)
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            for root in self.roots:
                try:
                    root.wait(10)
                except subprocess.TimeoutExpired:
                    pass
            time.sleep(1)
        for folder in self.dirs:
            shutil.rmtree(folder, ignore_errors=True)
        for log in self.logs:
            log.close()
            Path(log.name).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()


def mac_run(cluster: Cluster, *args: str, cwd: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen([*MAC, "run", *args], cwd=cwd, env=cluster.env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **popen)


def job_args(jobs: Path, job: str, seeds: int, dev_time: int) -> list[str]:
    return ["--domain", "arith", "--meta-agent", "command", "--command", f"python -c {shlex.quote(BUILDER)}",
            "--seeds", str(seeds), "-n", str(seeds), "--budget", "smoke", "--dev-time", str(dev_time),
            "--jobs-dir", str(jobs), "--job", job, "--json"]


def saved_dev_time(trial: Path) -> float:
    try:
        return TrialResult.load(trial / "result.json").budget_use.dev_time_sec
    except (OSError, ValueError):
        return 0.0


def attempts(trial: Path) -> list[dict]:
    return read_jsonl(trial / "executor.jsonl")


def node_ids(cluster: Cluster) -> dict[str, str]:
    probe = textwrap.dedent(f'''
        import json, ray
        ray.init(address="{cluster.address}", log_to_driver=False)
        assert {{n["NodeManagerAddress"] for n in ray.nodes()}} == {{"{LOOPBACK}"}}, ray.nodes()  # loopback only
        print(json.dumps({{n["NodeID"]: "second" if "second_node" in n["Resources"] else "head"
                          for n in ray.nodes()}}))
    ''')
    done = subprocess.run([sys.executable, "-c", probe], env=cluster.env, capture_output=True, text=True, timeout=60)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(400)
def test_a_job_across_two_nodes_survives_a_node_death_with_the_local_scores(cluster, tmp_path):
    jobs = tmp_path / "jobs"
    names = node_ids(cluster)
    ray_job = mac_run(cluster, *job_args(jobs, "on-ray", 4, 30), "--executor", "ray", "--ray-address",
                      cluster.address, cwd=tmp_path)
    local_job = None
    try:
        trials = [jobs / "on-ray" / f"arith-command-s{seed}" for seed in range(4)]

        def victim() -> Path | None:
            """A trial developing on the second node whose agent.py and a dev-time heartbeat reached us."""
            for trial in trials:
                runs = [a for a in attempts(trial) if a["event"] == "started"]
                if runs and names.get(runs[-1]["node_id"]) == "second" and \
                        (trial / "workspace" / "agent.py").is_file() and saved_dev_time(trial) > 0:
                    return trial
            return None

        wait_for(lambda: victim() is not None, 150, "a trial developing on the second node")
        killed = victim()
        cluster.remember()
        os.kill(cluster.raylet(1), signal.SIGKILL)
        out, err = ray_job.communicate(timeout=300)
        assert ray_job.returncode == 0, err[-3000:]
        # the same job on the local executor, for the scores
        local_job = mac_run(cluster, *job_args(jobs, "local", 4, 30), cwd=tmp_path)
        local_out, local_err = local_job.communicate(timeout=200)
        assert local_job.returncode == 0, local_err[-3000:]
    finally:
        for proc in (ray_job, local_job):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    on_ray = {t["trial"]: t for t in json.loads(out)["trials"]}
    local = {t["trial"]: t for t in json.loads(local_out)["trials"]}
    assert {k: v["test"] for k, v in on_ray.items()} == {k: v["test"] for k, v in local.items()}
    assert all(t["status"] == "completed" and t["test"]["total"] > 0 for t in on_ray.values())
    used = {names.get(a["node_id"]) for t in trials for a in attempts(t) if a["event"] == "started"}
    assert used == {"head", "second"}

    runs = attempts(killed)
    assert [a["event"] for a in runs] == ["started", "ended", "started", "ended"]
    assert names[runs[0]["node_id"]] == "second" and runs[1]["outcome"].startswith("lost")
    assert names[runs[2]["node_id"]] == "head" and runs[3]["outcome"] == "done"
    result = TrialResult.load(killed / "result.json")
    [resumed] = result.resumed
    assert resumed.from_phase == "develop" and resumed.policy in ("continue-development", "freeze-workspace")
    assert 0 < resumed.dev_spent_sec < 30 and result.budget_use.dev_time_sec <= 30 + 5
    assert (killed / "artifact" / "agent.py").is_file()
    rows = Index(jobs / "index.sqlite").trials("on-ray")
    assert sorted(r["trial"] for r in rows) == sorted(t.name for t in trials)  # each trial counted once
    assert all(r["status"] == "completed" for r in rows)
    assert not marked_processes()


@pytest.mark.timeout(300)
def test_ctrl_c_saves_remote_trials_as_interrupted_and_the_resume_finishes_them(cluster, tmp_path):
    jobs = tmp_path / "jobs"
    trial = jobs / "stopped" / "arith-command-s0"
    controller = mac_run(cluster, *job_args(jobs, "stopped", 1, 40)[:-1], "--executor", "ray", "--ray-address",
                         cluster.address, cwd=tmp_path)
    try:
        wait_for(lambda: (trial / "workspace" / "agent.py").is_file() and marked_processes(), 120,
                 "the trial developing on the cluster")
        controller.send_signal(signal.SIGINT)
        _, err = controller.communicate(timeout=120)
    finally:
        if controller.poll() is None:
            os.killpg(controller.pid, signal.SIGKILL)
            controller.wait(10)
    assert controller.returncode == 130, err[-3000:]
    assert f"mac run --resume {jobs / 'stopped'}" in err.replace("\n", "")
    wait_for(lambda: not marked_processes(), 20, "the remote sandboxes to die")
    result = TrialResult.load(trial / "result.json")
    assert result.status == "interrupted" and result.timings["develop"].finished_at is None
    assert 0 < result.budget_use.dev_time_sec < 40

    done = subprocess.run([*MAC, "run", "--resume", str(jobs / "stopped"), "--ray-address", cluster.address],
                          cwd=tmp_path, env=cluster.env, capture_output=True, text=True, timeout=200)
    assert done.returncode == 0, done.stdout + done.stderr
    result = TrialResult.load(trial / "result.json")
    [resumed] = result.resumed
    assert resumed.policy == "continue-development" and result.status == "completed" and result.test is not None
