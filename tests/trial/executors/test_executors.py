"""The executor seam without a cluster: streaming a trial folder, the job-spec fields and flags, `mac ray start`'s
command line, and the error when Ray is not installed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mac.errors import ConfigError, StoreError
from mac.trial.executors import LocalExecutor, make_executor
from mac.trial.executors.cluster import start_command
from mac.trial.executors.stream import CHUNK_BYTES, FolderReceiver, FolderSender
from mac.trial.jobfile import load_job_spec

MAC = [sys.executable, "-c", "from mac.cli import app; app()"]


def sync(sender: FolderSender, receiver: FolderReceiver, max_bytes: int = 1 << 20) -> list[str]:
    sender.scan()
    written, more = [], True
    while more:
        chunks, more = sender.take(max_bytes)
        written += receiver.apply(chunks)
    return written


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_trial_folder_streams_whole_files_grown_logs_and_large_files(tmp_path):
    src, dst = tmp_path / "worker", tmp_path / "controller"
    (src / "trajectory").mkdir(parents=True)
    (src / "result.json").write_text('{"status": "running"}')
    (src / "gateway.jsonl").write_text('{"n": 1}\n')
    (src / "trajectory" / "big.bin").write_bytes(os.urandom(CHUNK_BYTES * 2 + 5))
    (src / ".result.json.123.tmp").write_text("half written")  # an atomic write in progress: never sent
    (src / "secret").symlink_to("/etc/hostname")  # never followed
    (src / "config.json").write_text("{}")  # the controller's own
    sender, receiver = FolderSender(src, skip=("config.json",)), FolderReceiver(dst)
    assert set(sync(sender, receiver, max_bytes=CHUNK_BYTES)) == {"result.json", "gateway.jsonl", "trajectory/big.bin"}
    assert tree(dst) == {k: v for k, v in tree(src).items() if k in ("result.json", "gateway.jsonl", "trajectory/big.bin")}
    assert (dst / "result.json").stat().st_mtime_ns == (src / "result.json").stat().st_mtime_ns  # resume reads it

    with open(src / "gateway.jsonl", "a") as log:
        log.write('{"n": 2}\n')
    (src / "result.json").write_text('{"status": "completed"}')
    sender.scan()
    chunks, _ = sender.take()
    grown = next(c for c in chunks if c["path"] == "gateway.jsonl")
    assert grown["base"] == len('{"n": 1}\n') and grown["data"] == b'{"n": 2}\n'  # only the new tail travels
    receiver.apply(chunks)
    assert tree(dst)["gateway.jsonl"] == (src / "gateway.jsonl").read_bytes()
    assert (dst / "result.json").read_text() == '{"status": "completed"}'
    assert sync(sender, receiver) == []  # nothing changed since


def test_a_damaged_chunk_or_an_escaping_path_is_refused(tmp_path):
    src, dst = tmp_path / "w", tmp_path / "c"
    src.mkdir()
    (src / "result.json").write_text("{}")
    sender = FolderSender(src)
    sender.scan()
    [chunk], _ = sender.take()
    receiver = FolderReceiver(dst)
    with pytest.raises(StoreError, match="sha256"):
        receiver.apply([{**chunk, "data": b"[]"}])
    assert not (dst / "result.json").exists()
    with pytest.raises(StoreError, match="refused"):
        receiver.apply([{**chunk, "path": "../outside.json"}])
    assert receiver.apply([chunk]) == ["result.json"]
    assert hashlib.sha256((dst / "result.json").read_bytes()).hexdigest() == chunk["sha256"]


def test_workspace_copies_are_compared_by_content(tmp_path):
    copy, dst = tmp_path / "copy", tmp_path / "c"
    copy.mkdir()
    (copy / "agent.py").write_text("v1")
    sender, receiver = FolderSender(tmp_path / "none"), FolderReceiver(dst)
    sender.add_tree(copy, "workspace")
    assert receiver.apply(sender.take()[0]) == ["workspace/agent.py"]
    time.sleep(0.01)
    (copy / "agent.py").write_text("v1")  # a new copy, same content: nothing to send
    sender.add_tree(copy, "workspace")
    assert sender.take()[0] == []


def test_the_job_spec_names_the_executor():
    spec = load_job_spec(["executor=ray", "ray_address=127.0.0.2:6379", "domain=arith"])
    assert (spec.executor, spec.ray_address, spec.ray_shared_fs) == ("ray", "127.0.0.2:6379", False)
    assert isinstance(make_executor(None, 3), LocalExecutor)
    assert isinstance(make_executor(load_job_spec(["domain=arith"]), 3), LocalExecutor)
    with pytest.raises(ConfigError, match="--executor ray"):
        load_job_spec(["ray_address=auto", "domain=arith"])
    with pytest.raises(ConfigError, match="ray://HOST:PORT"):
        load_job_spec(["executor=ray", "ray_address=somewhere", "domain=arith"])
    with pytest.raises(ConfigError, match="executor"):
        load_job_spec(["executor=slurm", "domain=arith"])


def test_mac_ray_start_adds_the_sandbox_resource_and_turns_usage_stats_off():
    command, env = start_command(["--head", "--port", "6380", "--resources", '{"gpu_box": 1}'], 3)
    assert command[1:] == ["start", "--head", "--port", "6380", "--resources", '{"gpu_box": 1, "mac_sandbox": 3}',
                           "--disable-usage-stats"]
    assert env["RAY_USAGE_STATS_ENABLED"] == "0" and env["RAY_worker_niceness"] == "0"
    with pytest.raises(ConfigError, match="JSON object"):
        start_command(["--resources=[1]"], None)


def test_without_ray_the_ray_executor_names_the_install_command(tmp_path):
    blocked = "import sys; sys.modules['ray'] = None; from mac.cli import app; app()"
    done = subprocess.run([sys.executable, "-c", blocked, "run", "--domain", "arith", "--executor", "ray",
                           "--jobs-dir", str(tmp_path / "jobs")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pip install 'mac-bench[ray]'" in done.stderr.replace("\n", "")
    assert not (tmp_path / "jobs").exists()  # refused before anything was made


def test_resume_refuses_settings_but_takes_where_trials_run(tmp_path):
    done = subprocess.run([*MAC, "run", "--resume", "nojob", "--executor", "ray", "--domain", "arith",
                           "--jobs-dir", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "drop --domain (only" in done.stderr.replace("\n", "")  # --executor is not refused
