"""The job spec: job files, key=value overrides, validation, and the TrialConfigs it turns into."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mac.errors import ConfigError
from mac.trial.jobfile import load_job_spec
from mac.trial.jobcheck import prepare_spec
from mac.trial.jobspec import JobSpec, trial_configs

JOB_TOML = """
domain = "arith"
meta_agent = "command"
seeds = 2
data = "data/arith"
price_input_per_mtok = 0.5
price_output_per_mtok = 2.0

[meta_agent_options]
command = "python /opt/builder/build.py"

[budget]
preset = "demo"
dev_time = 40
dev_cost_usd = 1.5

[budget.fields.dev_limits]
memory_mb = 3000
"""


def test_a_job_file_then_assignments_then_flags_merge_in_order(tmp_path):
    (tmp_path / "job.toml").write_text(JOB_TOML)
    spec = load_job_spec([tmp_path / "job.toml", "seeds=3", "budget.dev_time=50", "task_model=openai:qwen3"],
                         {"budget.dev_time": 60.0, "meta_agent_options.mounts": ["tools"]})
    assert spec.seeds == 3 and spec.task_model == "openai:qwen3"
    assert spec.budget.preset == "demo" and spec.budget.dev_time == 60.0 and spec.budget.dev_cost_usd == 1.5
    assert spec.meta_agent_options == {"command": "python /opt/builder/build.py", "mounts": ["tools"]}
    assert spec.data == str(tmp_path / "data/arith")  # a file's relative paths are relative to the file
    model = spec.task_model_spec()
    assert (model.backend, model.name, model.price_input_per_mtok, model.price_output_per_mtok) == \
        ("openai", "qwen3", 0.5, 2.0)


@pytest.mark.parametrize("source, key", [
    ("seeds=0", "seeds"),
    ("budget.dev_time=inf", "budget.dev_time"),
    ("budget.dev_time=nan", "budget.dev_time"),
    ("budget.eval_timeout=-1", "budget.eval_timeout"),
    ("budget.dev_requests=2.5", "budget.dev_requests"),
    ("budget.preset=huge", "budget.preset"),
    ("price_input_per_mtok=-0.1", "price_input_per_mtok"),
    ("concurrency=0", "concurrency"),
    ("job=../escape", "job"),
    ("task_model=gpt", "task_model"),
])
def test_bad_values_are_refused_naming_the_key(source, key):
    with pytest.raises(ConfigError) as err:
        load_job_spec(["domain=arith", source])
    assert f"{key}:" in str(err.value)


def test_a_misspelt_key_is_an_error_listing_the_known_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"sedds: unknown key \(misspelt\?\); known: .*seeds"):
        load_job_spec(["domain=arith", "sedds=3"])
    with pytest.raises(ConfigError, match=r"budget.dev_tim: unknown key.*dev_time"):
        load_job_spec(["domain=arith", "budget.dev_tim=3"])
    (tmp_path / "bad.toml").write_text("domain = 'arith'\nseeds = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_job_spec([tmp_path / "bad.toml"])
    with pytest.raises(ConfigError, match="no job file"):
        load_job_spec([tmp_path / "missing.toml"])
    with pytest.raises(ConfigError, match="--domain is required"):
        load_job_spec(["seeds=2"])


def test_trial_configs_carry_every_setting(tmp_path):
    spec = prepare_spec(load_job_spec([], {
        "domain": "arith", "meta_agent": "baseline", "seeds": 3, "first_seed": 4, "job": "j",
        "jobs_dir": str(tmp_path / "jobs"), "budget.preset": "smoke", "budget.verify_requests": 7,
        "budget.verify_cost_usd": 0.25, "price_output_per_mtok": 3.0, "sandbox_options": {"use_seccomp": True},
        "budget.fields": {"dev_limits": {"memory_mb": 3000}}}))
    assert spec.meta_agent_options == {"baseline": "naive"}  # the adapter's normalised options
    configs = trial_configs(spec)
    assert [c.trial for c in configs] == [f"arith-baseline-naive-s{s}" for s in (4, 5, 6)]
    assert [c.task_model.seed for c in configs] == [4, 5, 6]
    budget = configs[0].budget
    assert budget.dev_time_sec == 10 and budget.verify_quota.requests == 7 and budget.verify_quota.cost_usd == 0.25
    assert budget.dev_limits.memory_mb == 3000
    assert configs[0].task_model.price_output_per_mtok == 3.0 and configs[0].sandbox_options == {"use_seccomp": True}


def test_prepare_names_the_job_and_makes_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = prepare_spec(load_job_spec([], {"domain": "arith", "jobs_dir": "jobs"}))
    assert spec.job.endswith("-arith-reference") and spec.jobs_dir == str(tmp_path / "jobs")
    again = JobSpec.model_validate(json.loads(spec.model_dump_json()))  # what job.json stores reads back the same
    assert again == spec


@pytest.mark.parametrize("overrides, hint", [
    ({"sandbox": "none"}, "isolates nothing"),
    ({"sandbox_options": {"use_cgroup": False}}, "use_cgroup"),
    ({"budget.dev_cost_usd": 2.0}, "needs the task model's prices"),
    ({"auditor_base_url": "http://127.0.0.1:9/v1"}, "--auditor-model"),
    ({"meta_agent": "reference", "meta_agent_options.command": "x"}, "does not take the option(s) command"),
    ({"base_url": "http://127.0.0.1:9/v1"}, "sim task model has no upstream"),
])
def test_prepare_refuses_what_could_only_fail_later(overrides, hint, tmp_path):
    with pytest.raises(ConfigError) as err:
        prepare_spec(load_job_spec([], {"domain": "arith", "jobs_dir": str(tmp_path), **overrides}))
    assert hint in str(err.value)


def test_a_jobs_job_json_is_a_template_without_its_name(tmp_path):
    spec = prepare_spec(load_job_spec([], {"domain": "arith", "job": "old", "seeds": 2, "budget.preset": "demo",
                                           "jobs_dir": str(tmp_path)}))
    (tmp_path / "job.json").write_text(json.dumps({"job": "old", "spec": spec.model_dump(mode="json"), "trials": []}))
    reused = load_job_spec([tmp_path / "job.json", "job=new"])
    assert reused.job == "new" and reused.seeds == 2 and reused.budget.preset == "demo"
    assert Path(reused.jobs_dir) == tmp_path
