"""Where a job's and a trial's files live. One frozen dataclass per level; reports, auditors and `mac verify`
all read the layout from here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mac.errors import ConfigError

RETRIED_FOLDER = "retried"
"""Reserved name in a job folder (trial names always hold "-s<seed>"): earlier attempts of retried trials."""
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_name(name: str, what: str) -> str:
    """Job and trial names become folder names: letters, digits, `.`, `_`, `-` only."""
    if not _SAFE_NAME.match(name) or name in (".", ".."):
        raise ConfigError(f"invalid {what} name {name!r}: use letters, digits, '.', '_' and '-' (at most 128)")
    return name


@dataclass(frozen=True)
class JobPaths:
    """The jobs folder and one job in it.

        <jobs_dir>/
          index.sqlite          jobs and trials tables (mac.store.index)
          <job>/
            job.json            the job's trial list and options
            <trial>/            one TrialPaths per trial
            retried/<trial>.attempt-N/   earlier attempts of trials re-run by `mac run --resume --retry-failed`
    """

    jobs_dir: Path
    job: str

    @property
    def dir(self) -> Path:
        return self.jobs_dir / self.job

    @property
    def index(self) -> Path:
        return self.jobs_dir / "index.sqlite"

    @property
    def job_json(self) -> Path:
        return self.dir / "job.json"

    @property
    def retried(self) -> Path:
        return self.dir / RETRIED_FOLDER

    def trial(self, name: str) -> TrialPaths:
        return TrialPaths(self.dir / check_name(name, "trial"))


@dataclass(frozen=True)
class TrialPaths:
    """The folder of one trial (one meta-agent, one domain, one seed).

        jobs/<job>/<trial>/
          config.json           TrialConfig: everything needed to re-run or re-verify the trial
          workspace/            the meta-agent's live folder during development (read-write in its sandbox)
          artifact/             the frozen copy of workspace/ at the deadline; result.json has its sha256
          dev_evals.jsonl       one line per POST /evaluate/agent: time, first_k, score, usage, run_id, hash
          gateway.jsonl         every task-model call of every phase (written by the gateway)
          evidence.jsonl        what the defences stopped: refusals, kills, denials (mac.evidence)
          egress.jsonl          the meta-agent's outbound connections (empty without an egress proxy)
          trajectory/           the meta-agent's logs: command.txt, return-code.txt, stdout.txt, stderr.txt
          audit.json            the integrity verdict ({"verdict": null} until an auditor fills it)
          verification.json     the test-split EvalResult of the frozen artifact
          result.json           TrialResult: scores, budget use, timings, versions, integrity fields

    Every whole file is written atomically (mac.store.atomic); JSONL logs are appended a line at a time.
    """

    dir: Path

    @property
    def name(self) -> str:
        return self.dir.name

    @property
    def job_dir(self) -> Path:
        return self.dir.parent

    @property
    def jobs_dir(self) -> Path:
        return self.dir.parent.parent

    @property
    def config(self) -> Path:
        return self.dir / "config.json"

    @property
    def workspace(self) -> Path:
        return self.dir / "workspace"

    @property
    def artifact(self) -> Path:
        return self.dir / "artifact"

    @property
    def dev_evals(self) -> Path:
        return self.dir / "dev_evals.jsonl"

    @property
    def gateway_log(self) -> Path:
        return self.dir / "gateway.jsonl"

    @property
    def evidence(self) -> Path:
        return self.dir / "evidence.jsonl"

    @property
    def egress(self) -> Path:
        return self.dir / "egress.jsonl"

    @property
    def trajectory(self) -> Path:
        return self.dir / "trajectory"

    @property
    def audit(self) -> Path:
        return self.dir / "audit.json"

    @property
    def verification(self) -> Path:
        return self.dir / "verification.json"

    @property
    def result(self) -> Path:
        return self.dir / "result.json"

    def create(self) -> None:
        """Make the folder and its subfolders (idempotent)."""
        for folder in (self.dir, self.workspace, self.trajectory):
            folder.mkdir(parents=True, exist_ok=True)
