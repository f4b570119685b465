"""Which keys the prediction log's object retention may delete (only the two shapes the log
writes), and ``LOG_OBJECT_RETENTION_DAYS``: 0 keeps objects, otherwise at least a day and
longer than a canary step; anything else is refused at settings load, naming the setting."""

from __future__ import annotations

import pytest

from driftline.deployment.prediction_log.object_retention import log_objects
from driftline.deployment.settings import DeploymentSettings

LOG = [
    "prediction-log/model=churn/version=3/date=2026-01-02/p0-000000000000-000000000099.parquet",
    "predictions/churn/v3/7f9c2e1b.jsonl",
]


@pytest.mark.parametrize(
    "key",
    [
        "predictions/churn/batch/job-1.csv",  # batch scoring's output
        "predictions/churn/batch/job-1.parquet",
        "predictions/churn/v3/sub/7f9c.jsonl",
        "predictions/churn/v3/7f9c.jsonl.bak",
        "predictions/churn/vX/7f9c.jsonl",
        "predictions/v3/7f9c.jsonl",
        "prediction-log/model=churn/version=3/p0-1-2.parquet",
        "prediction-log/model=churn/version=3/date=2026-1-2/p0-1-2.parquet",
        "prediction-log/model=churn/version=3/date=2026-01-02/p0.parquet/x",
        "prediction-log/model=churn/version=3/date=2026-01-02/p0.csv",
        "datasets/prediction-log/model=a/version=1/date=2026-01-02/p.parquet",
        "models/churn/3.skops",
        "",
    ],
)
def test_nothing_but_the_logs_own_objects_is_taken(key: str) -> None:
    assert log_objects([*LOG, key]) == LOG


def test_the_default_keeps_objects_four_months() -> None:
    assert DeploymentSettings().deployment.log_object_retention_days == 120


def test_zero_keeps_them_for_good(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_DEPLOYMENT__LOG_OBJECT_RETENTION_DAYS", "0")
    assert DeploymentSettings().deployment.log_object_retention_days == 0


@pytest.mark.parametrize(
    "days", ["0.5", "-1", "nan", "inf", "1e308", "36501", "forever", "[30]", ""]
)
def test_out_of_range_or_no_number_is_refused(monkeypatch: pytest.MonkeyPatch, days: str) -> None:
    monkeypatch.setenv("DRIFTLINE_DEPLOYMENT__LOG_OBJECT_RETENTION_DAYS", days)
    with pytest.raises(ValueError, match="log_object_retention_days"):
        DeploymentSettings()


def test_objects_must_outlive_a_canary_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_DEPLOYMENT__CANARY_STEP_TIMEOUT_S", str(3 * 86_400))
    monkeypatch.setenv("DRIFTLINE_DEPLOYMENT__LOG_OBJECT_RETENTION_DAYS", "2")
    with pytest.raises(ValueError, match="longer than canary_step_timeout_s"):
        DeploymentSettings()
    monkeypatch.setenv("DRIFTLINE_DEPLOYMENT__LOG_OBJECT_RETENTION_DAYS", "0")
    assert DeploymentSettings().deployment.log_object_retention_days == 0
