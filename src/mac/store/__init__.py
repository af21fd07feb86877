"""The results store: job and trial folders (`TrialPaths` draws the layout), atomic writes, the sqlite index."""

from mac.store.atomic import append_jsonl, read_jsonl, write_bytes_atomic, write_json_atomic, write_text_atomic
from mac.store.index import Index
from mac.store.models import (
    BudgetUse,
    DevScore,
    ExceptionInfo,
    MetaAgentExit,
    MetaAgentUsage,
    PhaseTiming,
    ResumeRecord,
    Score,
    TrialConfig,
    TrialResult,
)
from mac.store.paths import JobPaths, TrialPaths, check_name

__all__ = [
    "BudgetUse", "DevScore", "ExceptionInfo", "Index", "JobPaths", "MetaAgentExit", "MetaAgentUsage", "PhaseTiming",
    "ResumeRecord", "Score", "TrialConfig", "TrialPaths", "TrialResult", "append_jsonl", "check_name", "read_jsonl",
    "write_bytes_atomic", "write_json_atomic", "write_text_atomic",
]
