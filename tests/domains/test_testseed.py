"""arith's test split is secret: generated from a seed only the controller holds (per install, created on first
use, 0600), recorded as a fingerprint, pinned with a seed file; the dev split stays public."""

from __future__ import annotations

import asyncio
import json
import stat

import pytest

from mac.config import TaskModelSpec
from mac.domains import get_domain
from mac.domains.arithgen import generate
from mac.domains.testseed import default_seed_path, fingerprint, open_seed, seed_for
from mac.errors import ConfigError
from mac.store import TrialConfig
from mac.trial.budgets import budget_preset
from mac.trial.job import job_configs

ARITH = get_domain("arith")


@pytest.fixture
def secrets_home(tmp_path, monkeypatch):
    home = tmp_path / "secrets"
    monkeypatch.setenv("MAC_SECRETS", str(home))
    return home


def test_the_install_seed_is_created_on_first_use_private_and_stable(secrets_home):
    assert not default_seed_path("arith").exists()
    first = ARITH.load("test")
    path = default_seed_path("arith")
    assert path.parent == secrets_home and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets_home.stat().st_mode) == 0o700
    assert [r.question for r in ARITH.load("test")] == [r.question for r in first]  # the same seed, the same split


def test_another_seed_gives_another_test_split_but_the_same_dev_split(tmp_path):
    a, b = open_seed(tmp_path / "a"), open_seed(tmp_path / "b")
    test_a, test_b = ARITH.load("test", seed=a), ARITH.load("test", seed=b)
    assert not {r.question for r in test_a} & {r.question for r in test_b}
    assert [r.question for r in ARITH.load("dev")] == [p.question for p in generate("dev", len(test_a))]
    assert a.fingerprint != b.fingerprint and a.value not in repr(a)


def test_the_public_generator_does_not_rebuild_the_test_split(tmp_path):
    """Generator replay: an artifact that carries mac.domains.arithgen (public code) and replays the test split
    with the public recipe gets questions that are not the test questions, so its answer table scores nothing."""
    dev = ARITH.load("dev")
    replayed = generate("test", 60, avoid={r.question for r in dev})
    table = {p.question: str(p.answer) for p in replayed}
    test = ARITH.load("test", seed=open_seed(tmp_path / "seed"))
    hits = sum(table.get(r.question) == r.answer for r in test)
    assert hits == 0
    assert sum(table.get(r.question) is not None for r in test) == 0


def test_a_pinned_seed_file_regenerates_the_split_and_is_recorded_by_fingerprint_only(tmp_path, secrets_home):
    pinned = tmp_path / "published-seed"
    configs = job_configs(job="j", domain="arith", meta_agent="reference", seeds=2, task_model=TaskModelSpec.parse("sim"),
                          budget=budget_preset("smoke", ARITH.default_budget()), test_seed_file=str(pinned))
    seed = open_seed(pinned, create=False)
    assert stat.S_IMODE(pinned.stat().st_mode) == 0o600
    for config in configs:
        assert config.test_seed_file == str(pinned) and config.test_seed_fingerprint == seed.fingerprint
        assert seed.value not in config.model_dump_json()
    again = seed_for(ARITH, None, configs[0].test_seed_file, expect=configs[0].test_seed_fingerprint)
    assert ARITH.load("test", seed=again) == ARITH.load("test", seed=seed)
    assert not default_seed_path("arith").exists()  # the pinned file was used, not the install's


def test_seed_files_are_refused_when_exposed_short_or_changed(tmp_path):
    loose = tmp_path / "loose"
    loose.write_text("x" * 64)
    loose.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        open_seed(loose)
    short = tmp_path / "short"
    short.write_text("42\n")
    short.chmod(0o600)
    with pytest.raises(ConfigError, match="delete it to have a random one created"):
        open_seed(short)
    good = open_seed(tmp_path / "good")
    with pytest.raises(ConfigError, match="Restore the seed file"):
        seed_for(ARITH, None, good.path, expect=fingerprint("something else entirely"))


def test_the_flag_is_only_for_generated_test_splits(tmp_path):
    with pytest.raises(ConfigError, match="no generated test split"):
        seed_for(get_domain("aime"), None, tmp_path / "seed")
    with pytest.raises(ConfigError, match="reads its test split from --data"):
        seed_for(ARITH, tmp_path, tmp_path / "seed")
    assert seed_for(get_domain("aime"), None, None) is None


def _trial_folder(tmp_path, **seed_fields):
    from mac.store import TrialPaths

    paths = TrialPaths(tmp_path / "jobs" / "job" / "trial")
    paths.create()
    config = TrialConfig(job="job", trial="trial", domain="arith", meta_agent="reference", **seed_fields)
    paths.config.write_text(config.model_dump_json())
    return paths


def test_mac_verify_refuses_a_seed_file_that_changed(tmp_path):
    from mac.trial.verify import verify_trial_dir

    seed = open_seed(tmp_path / "seed")
    paths = _trial_folder(tmp_path, test_seed_file=str(seed.path), test_seed_fingerprint=seed.fingerprint)
    seed.path.write_text("another secret of enough length\n")
    with pytest.raises(ConfigError, match=f"recorded with {seed.fingerprint}"):
        asyncio.run(verify_trial_dir(paths.dir))
    assert json.loads(paths.config.read_text())["test_seed_fingerprint"] == seed.fingerprint


def test_mac_verify_refuses_a_trial_from_before_the_secret_split(tmp_path):
    from mac.trial.verify import verify_trial_dir

    paths = _trial_folder(tmp_path)  # no seed recorded: it ran on the old public test split
    with pytest.raises(ConfigError, match="predates arith's secret test split"):
        asyncio.run(verify_trial_dir(paths.dir))
