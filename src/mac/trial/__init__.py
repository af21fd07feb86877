"""Trials and jobs: the phases of one trial (`run_trial`), jobs of trials (`run_job`, `resume_job`), re-verification."""

from mac.trial.budgets import PRESETS, budget_preset, override_budget
from mac.trial.job import resume_job, run_job
from mac.trial.jobfile import load_job_spec
from mac.trial.jobcheck import prepare_spec
from mac.trial.jobspec import JobSpec, default_job_name, job_configs, trial_configs, trial_name
from mac.trial.lifecycle import new_result, run_trial
from mac.trial.progress import TrialProgress
from mac.trial.verify import verify_trial_dir

__all__ = ["PRESETS", "JobSpec", "TrialProgress", "budget_preset", "default_job_name", "job_configs", "load_job_spec",
           "new_result", "override_budget", "prepare_spec", "resume_job", "run_job", "run_trial", "trial_configs",
           "trial_name", "verify_trial_dir"]
