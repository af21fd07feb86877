"""The closed vocabularies (mac.kinds) hold where values are produced and where reports read them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mac.kinds import TRIAL_STATUSES
from mac.report.aggregate import TrialRow
from mac.store import Score, TrialResult
from mac.trial.outcome import finished_status

ROW = dict(job="j", trial="t", domain="arith", meta_agent="reference", task_model="sim", seed=0, simulated=True,
           status="completed")


def test_report_rows_refuse_unknown_statuses_and_verdicts():
    assert TrialRow(**ROW, integrity_verdict="CLEAN").status == "completed"
    with pytest.raises(ValidationError):
        TrialRow(**{**ROW, "status": "complete"})
    with pytest.raises(ValidationError):
        TrialRow(**ROW, integrity_verdict="clean")


@pytest.mark.parametrize("test", [None, Score(accuracy=50.0, correct=30, total=60)])
def test_finished_status_is_a_trial_status(test):
    result = TrialResult(job="j", trial="t", domain="arith", meta_agent="reference", seed=0, task_model="sim",
                         simulated=True, test=test)
    assert finished_status(result) in TRIAL_STATUSES
