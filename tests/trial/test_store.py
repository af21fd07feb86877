"""The results store: atomic writes, JSONL appends, the trial layout and the sqlite index."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from mac.errors import ConfigError
from mac.store import (
    Index,
    JobPaths,
    Score,
    TrialConfig,
    TrialPaths,
    TrialResult,
    append_jsonl,
    read_jsonl,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)


def _result(job: str = "j1", trial: str = "t1", accuracy: float | None = 50.0) -> TrialResult:
    return TrialResult(job=job, trial=trial, domain="arith", meta_agent="reference", seed=0, task_model="sim",
                       simulated=True, status="completed",
                       test=Score(accuracy=accuracy, correct=5, total=10) if accuracy is not None else None)


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "result.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, _result())
    assert TrialResult.load(target).test.accuracy == 50.0
    assert sorted(p.name for p in target.parent.iterdir()) == ["result.json"]


def test_atomic_write_failure_keeps_old_content(tmp_path):
    target = tmp_path / "config.json"
    write_text_atomic(target, "old")
    with pytest.raises(TypeError):
        write_bytes_atomic(target, "not bytes: fails after the temporary file exists")  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def _append_many(path: str, worker: int) -> None:
    for i in range(200):
        append_jsonl(path, {"worker": worker, "i": i, "pad": "x" * 300})


def test_jsonl_appends_from_processes_never_tear_lines(tmp_path):
    path = tmp_path / "dev_evals.jsonl"
    procs = [multiprocessing.get_context("fork").Process(target=_append_many, args=(str(path), w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    rows = read_jsonl(path)
    assert len(rows) == 800
    assert {(r["worker"], r["i"]) for r in rows} == {(w, i) for w in range(4) for i in range(200)}


def test_read_jsonl_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "log.jsonl"
    append_jsonl(path, {"ok": 1})
    with path.open("a") as fh:
        fh.write('{"torn": ')
    assert read_jsonl(path) == [{"ok": 1}]
    assert read_jsonl(tmp_path / "missing.jsonl") == []


def test_trial_paths_layout(tmp_path):
    job = JobPaths(tmp_path / "jobs", "job-1")
    paths = job.trial("arith-reference-s0")
    paths.create()
    assert paths.dir == tmp_path / "jobs" / "job-1" / "arith-reference-s0"
    assert paths.workspace.is_dir() and paths.trajectory.is_dir()
    assert paths.jobs_dir == tmp_path / "jobs" and job.index == tmp_path / "jobs" / "index.sqlite"
    names = {p.name for p in (paths.config, paths.artifact, paths.dev_evals, paths.gateway_log, paths.evidence,
                              paths.egress, paths.audit, paths.verification, paths.result)}
    assert names == {"config.json", "artifact", "dev_evals.jsonl", "gateway.jsonl", "evidence.jsonl",
                     "egress.jsonl", "audit.json", "verification.json", "result.json"}
    # the docstring draws every file the dataclass names
    for name in names | {"workspace/", "trajectory/"}:
        assert name in TrialPaths.__doc__


@pytest.mark.parametrize("bad", ["..", "a/b", "", "x" * 200, "-lead", "a b"])
def test_names_that_would_escape_or_confuse_are_refused(tmp_path, bad):
    with pytest.raises(ConfigError):
        JobPaths(tmp_path, "j").trial(bad)


def test_index_upserts_and_lists(tmp_path):
    index = Index(tmp_path / "index.sqlite")
    index.record_job("j1", options={"trials": ["t1", "t2"]})
    index.record_trial(_result(trial="t1", accuracy=None).model_copy(update={"status": "running"}), tmp_path / "t1")
    index.record_trial(_result(trial="t1", accuracy=70.0), tmp_path / "t1")
    index.record_trial(_result(trial="t2", accuracy=40.0), tmp_path / "t2")
    index.record_job("j1", options={"trials": ["t1", "t2"], "again": True})
    assert [j["job"] for j in index.jobs()] == ["j1"]
    assert index.jobs()[0]["options"]["again"] is True
    rows = index.trials("j1")
    assert [(r["trial"], r["status"], r["test_accuracy"]) for r in rows] == [("t1", "completed", 70.0),
                                                                           ("t2", "completed", 40.0)]
    assert rows[0]["simulated"] is True and rows[0]["path"] == str((tmp_path / "t1").resolve())
    assert index.trials("other") == []


def test_index_rebuild_from_folders(tmp_path):
    jobs = tmp_path / "jobs"
    for trial, acc in (("a", 10.0), ("b", 20.0)):
        paths = JobPaths(jobs, "j9").trial(trial)
        paths.create()
        write_json_atomic(paths.result, _result(job="j9", trial=trial, accuracy=acc))
    (jobs / "j9" / "junk").mkdir()
    (jobs / "j9" / "junk" / "result.json").write_text("{not json")
    index = Index(jobs / "index.sqlite")
    assert index.rebuild(jobs) == 2
    assert [r["test_accuracy"] for r in index.trials("j9")] == [10.0, 20.0]


def test_config_round_trips_through_json(tmp_path):
    config = TrialConfig(job="j", trial="t", domain="arith", meta_agent="command",
                         meta_agent_options={"command": "true"}, seed=3)
    write_json_atomic(tmp_path / "config.json", config)
    loaded = TrialConfig.model_validate_json((tmp_path / "config.json").read_text())
    assert loaded == config
    assert json.loads((tmp_path / "config.json").read_text())["version"] == "mac-trial-config-1"
    assert os.stat(tmp_path / "config.json").st_mode & 0o777 == 0o644


@pytest.mark.parametrize("field, value", [("status", "complete"), ("integrity_verdict", "clean"),
                                          ("status", "infrastructure-error")])
def test_status_and_verdict_fields_refuse_values_outside_their_vocabulary(field, value):
    data = {**_result().model_dump(mode="json"), field: value}
    with pytest.raises(ValueError, match=field):
        TrialResult.model_validate(data)
    for status in ("running", "completed", "failed", "interrupted", "infrastructure_error"):
        assert TrialResult.model_validate({**data, field: None, "status": status}).status == status
