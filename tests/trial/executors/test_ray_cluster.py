"""The Ray executor on a real two-node cluster on this machine (`mac ray start --head` and a second
`mac ray start --address`, each with its own temp dir, both on loopback, one auth token), real sandboxes and
the sim: a job across both nodes gives the local executor's scores, a node killed mid-trial loses nothing and
counts nothing twice, and Ctrl-C saves remote trials as interrupted for `mac run --resume`.

The cluster (mac.testing.raycluster) is on 127.0.0.2, a loopback address Ray keeps as it is; the tests stop only
the processes they started, by PID, and remove their temp dirs. One cluster serves the whole module; the last
test starts a Ray of its own (`--executor ray` without an address) on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mac.store import Index, TrialResult, read_jsonl
from mac.testing.raycluster import LOOPBACK, LocalRayCluster

pytestmark = [pytest.mark.slow]

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


@pytest.fixture(scope="module")
def cluster():
    with LocalRayCluster(nodes=2) as c:
        yield c


def mac_run(cluster: LocalRayCluster, *args: str, cwd: Path, **popen) -> subprocess.Popen:
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


@pytest.mark.timeout(400)
def test_a_job_across_two_nodes_survives_a_node_death_with_the_local_scores(cluster, tmp_path):
    jobs = tmp_path / "jobs"
    names = cluster.node_names()
    assert {n["NodeManagerAddress"] for n in cluster.nodes_info()} == {LOOPBACK}  # loopback only
    ray_job = mac_run(cluster, *job_args(jobs, "on-ray", 4, 30), "--executor", "ray", "--ray-address",
                      cluster.address, cwd=tmp_path)
    local_job = None
    try:
        trials = [jobs / "on-ray" / f"arith-command-s{seed}" for seed in range(4)]

        def victim() -> Path | None:
            """A trial developing on the second node whose agent.py and a dev-time heartbeat reached us."""
            for trial in trials:
                runs = [a for a in attempts(trial) if a["event"] == "started"]
                if runs and names.get(runs[-1]["node_id"]) == "node_1" and \
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
    assert used == {"head", "node_1"}
    assert {a["node_ip"] for t in trials for a in attempts(t)} == {LOOPBACK}

    runs = attempts(killed)
    assert [a["event"] for a in runs] == ["started", "ended", "started", "ended"]
    assert names[runs[0]["node_id"]] == "node_1" and runs[1]["outcome"].startswith("lost")
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


@pytest.mark.timeout(200)
def test_without_an_address_the_executor_starts_a_loopback_ray_of_its_own(tmp_path):
    """... and with --ray-shared-fs its worker writes the job's trial folder in place."""
    jobs = tmp_path / "jobs"
    had_token = (Path.home() / ".ray" / "auth_token").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    done = subprocess.run([*MAC, "run", "--domain", "arith", "--meta-agent", "baseline", "--baseline", "strong",
                           "--budget", "smoke", "--executor", "ray", "--ray-shared-fs", "--jobs-dir", str(jobs), "--job", "own",
                           "--json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    [trial] = json.loads(done.stdout)["trials"]  # stdout is the JSON alone: Ray's messages went to stderr
    assert trial["status"] == "completed"
    [started, ended] = attempts(jobs / "own" / trial["trial"])
    assert started["node_ip"] == "127.0.0.1" and ended["outcome"] == "done"
    config = json.loads((jobs / "own" / trial["trial"] / "config.json").read_text())
    assert config["test_seed_file"] and "ray-trial-" not in config["test_seed_file"]  # the install's, not a copy
    assert (jobs / "own" / trial["trial"] / "verification.json").is_file()
    assert (Path.home() / ".ray" / "auth_token").exists() == had_token  # its token was its own, not one saved in ~
