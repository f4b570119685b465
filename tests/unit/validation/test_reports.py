"""Reports list every check and stay safe to open in a browser."""

from __future__ import annotations

import json

from driftline.stats.expectations import CheckResult
from driftline.validation.adapters.reports import build_report, report_html, report_json
from driftline.validation.core import ModelCheck, Verdict
from driftline_contracts.values import DatasetRef, Reason

DATASET = DatasetRef(
    name="customers", uri="s3://driftline/datasets/c.csv", sha256="e" * 64, format="csv"
)


def _verdict() -> Verdict:
    hostile = CheckResult(
        code="unexpected_category",
        column="<script>alert(1)</script>",
        expected="one of ['a']",
        observed="'<img src=x>' in 3 rows",
        passed=False,
        failing_rows=3,
    )
    fine = CheckResult(
        code="dtype", column="age", expected="integer", observed="integer", passed=True
    )
    return Verdict(
        accepted=False,
        models=("churn",),
        checks=(ModelCheck("churn", hostile), ModelCheck("churn", fine)),
        reasons=(Reason(code="unexpected_category", message="expected ...", field="x"),),
        rows=10,
    )


def test_json_report_lists_every_check() -> None:
    report = build_report(DATASET, _verdict(), version=None, baseline_version=3)
    loaded = json.loads(report_json(report))
    assert loaded["outcome"] == "rejected"
    assert [(c["code"], c["passed"]) for c in loaded["checks"]] == [
        ("unexpected_category", False),
        ("dtype", True),
    ]
    assert loaded["checks"][0]["failing_rows"] == 3


def test_html_escapes_data_and_has_no_script() -> None:
    page = report_html(build_report(DATASET, _verdict(), version=None, baseline_version=None))
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;" in page
    assert page.count('class="fail"') == 1
    assert page.count('class="pass"') == 1
