"""The prepare phase: load the domain and its splits, pick the backends and the adapter, fill the workspace."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mac.domains.base import Domain, get_domain
from mac.domains.testseed import seed_for
from mac.evidence import EvidenceLog
from mac.metaagents.base import MetaAgent, get_metaagent
from mac.records import Record
from mac.sandbox.base import SandboxBackend
from mac.sandbox.snapshot import snapshot_workspace
from mac.store.models import TrialConfig
from mac.store.paths import TrialPaths
from mac.trial.environment import package_versions
from mac.trial.workspace import live_workspace, prepare_workspace


@dataclass
class TrialSetup:
    domain: Domain
    dev: list[Record]
    test: list[Record]
    sandbox: SandboxBackend
    model_backends: dict[str, Any]
    """The task-model backend of each phase ("dev", "verify"): for `sim`, each knows only its own split."""
    adapter: MetaAgent
    instruction: str
    packages: dict[str, str]
    workspace: Path
    """The live workspace (the trial's workspace/ or, when sandbox uids cannot reach it, a scratch folder)."""


def with_test_seed(config: TrialConfig) -> TrialConfig:
    """`config` with its generated test split's seed recorded (file and fingerprint; the install's seed file when
    none is set). Unchanged for domains whose test split is a file."""
    if config.test_seed_fingerprint is not None:
        return config
    seed = seed_for(get_domain(config.domain), Path(config.data) if config.data else None, config.test_seed_file)
    if seed is None:
        return config
    return config.model_copy(update={"test_seed_file": str(seed.path), "test_seed_fingerprint": seed.fingerprint})


def prepare_trial(config: TrialConfig, paths: TrialPaths, evidence: EvidenceLog | None, scratch: Path, *,
                  resume: bool = False) -> TrialSetup:
    """Everything the later phases need. Each phase gets its own sim, which knows only that phase's split (the
    dev token cannot reach test answers); the upstream key (if any) stays in the controller's model backend.

    `resume`: the trial's workspace/ holds the interrupted development's files; they seed the live workspace
    (copied under the snapshot rules when that is a scratch folder) and the harness files are only added if missing."""
    from mac.gateway import make_phase_backends

    domain = get_domain(config.domain)
    sandbox = trial_sandbox(config, domain, evidence)
    data = Path(config.data) if config.data else None
    seed = seed_for(domain, data, config.test_seed_file, expect=config.test_seed_fingerprint)
    dev, test = domain.load("dev", data), domain.load("test", data, seed=seed)
    adapter = get_metaagent(config.meta_agent, **config.meta_agent_options)
    model_backends = make_phase_backends(config.task_model, {
        "dev": [domain.sim_item(i, r) for i, r in enumerate(dev)],
        "verify": [domain.sim_item(i, r) for i, r in enumerate(test)]})
    workspace = live_workspace(paths.workspace, scratch)
    if resume and workspace != paths.workspace and paths.workspace.is_dir():
        workspace.rmdir()  # fresh and empty: the snapshot makes it again
        snapshot_workspace(paths.workspace, workspace)
    instruction = prepare_workspace(workspace, domain, dev, config.budget, config.task_model, overwrite=not resume)
    return TrialSetup(domain=domain, dev=dev, test=test, sandbox=sandbox, model_backends=model_backends,
                      adapter=adapter, instruction=instruction, packages=package_versions(), workspace=workspace)


def trial_sandbox(config: TrialConfig, domain: Domain, evidence: EvidenceLog | None) -> SandboxBackend:
    """The trial's sandbox backend (development, dev evaluations, verification): one that isolates, with the
    domain's allowed packages in its runtime as `mac eval` has them, so an artifact runs alike in both."""
    from mac.sandbox.registry import check_backend, get_backend

    check_backend(config.sandbox, config.sandbox_options, trial=True)
    options = dict(config.sandbox_options)
    options["runtime_packages"] = [*domain.allowed_packages(), *options.get("runtime_packages", [])]
    return get_backend(config.sandbox, evidence=evidence, **options)
