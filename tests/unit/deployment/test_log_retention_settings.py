"""``LOG_RETENTION_DAYS``: a day to a century (a cutoff further back is no date: the job would
fail every pass), and longer than a canary step (a step is judged on the rows logged during
it); anything else is refused at settings load, naming the setting."""

from __future__ import annotations

import pytest

from driftline.deployment.settings import DeploymentSettings


def test_the_default_keeps_a_month(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DeploymentSettings().deployment.log_retention_days == 30


@pytest.mark.parametrize(
    "days", ["0", "0.5", "-3", "nan", "inf", "1e308", "36501", "many", "[30]", ""]
)
def test_out_of_range_or_no_number_is_refused(monkeypatch: pytest.MonkeyPatch, days: str) -> None:
    monkeypatch.setenv("DRIFTLINE_DEPLOYMENT__LOG_RETENTION_DAYS", days)
    with pytest.raises(ValueError, match="log_retention_days"):
        DeploymentSettings()


def test_a_retention_shorter_than_a_canary_step_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_DEPLOYMENT__LOG_RETENTION_DAYS", "2")
    monkeypatch.setenv("DRIFTLINE_DEPLOYMENT__CANARY_STEP_TIMEOUT_S", str(3 * 86_400))
    with pytest.raises(ValueError, match="must be longer than canary_step_timeout_s"):
        DeploymentSettings()
    monkeypatch.setenv("DRIFTLINE_DEPLOYMENT__LOG_RETENTION_DAYS", "4")
    assert DeploymentSettings().deployment.log_retention_days == 4
