"""What monitoring's API and validation's profile artifact answer, shaped as the services do."""

from __future__ import annotations

from driftline.console.ports import Row
from driftline_contracts.events import DataValidated
from driftline_contracts.examples import example

PROFILE_URI = example(DataValidated).profile.uri
PROFILE_SHA = example(DataValidated).profile.sha256


def window(seq: int, *, drifted: bool) -> Row:
    """One row of ``GET /v1/models/{name}/drift/windows``."""
    return {
        "window_id": f"w{seq:06d}",
        "seq": seq,
        "version": 2,
        "start": f"2025-01-0{seq}T00:00:00Z",
        "end": f"2025-01-0{seq}T06:00:00Z",
        "rows": 500,
        "drifted": drifted,
        "drift_share": 0.5 if drifted else 0.0,
        "severity": "medium" if drifted else "none",
        "transition": "opened" if drifted else "steady",
        "drift_id": "drift-1" if drifted else None,
        "report_uri": f"s3://driftline/reports/w{seq}.json",
        "html_uri": f"s3://driftline/reports/w{seq}.html",
    }


WINDOWS = [window(3, drifted=True), window(2, drifted=False), window(1, drifted=False)]
"""Newest first, as monitoring lists them."""


def report(seq: int) -> Row:
    """``GET /v1/models/{name}/drift/windows/{seq}``: the JSON report with its distributions."""
    return {
        "model": "churn-clf",
        "version": 2,
        "window_id": f"w{seq:06d}",
        "distributions": [
            {
                "feature": "tenure_months",
                "labels": ["0..12", "12..24", "24..36", "36..48"],
                "reference": [0.4, 0.3, 0.2, 0.1],
                "current": [0.1, 0.2, 0.3, 0.4],
            },
            {
                "feature": "plan",
                "labels": ["basic", "premium", "family & <friends>", "__other__"],
                "reference": [0.5, 0.3, 0.15, 0.05],
                "current": [0.2, 0.5, 0.2, 0.1],
            },
        ],
    }


PROFILE: Row = {
    "rows": 1000,
    "sha256": "a" * 64,
    "columns": [
        {
            "name": "tenure_months",
            "dtype": "integer",
            "count": 990,
            "nulls": 10,
            "distinct": 60,
            "min": 0.0,
            "max": 59.0,
            "mean": 21.5,
            "histogram": {"edges": [0.0, 20.0, 40.0, 60.0], "counts": [500, 300, 190]},
        },
        {
            "name": "plan",
            "dtype": "string",
            "count": 800,
            "nulls": 200,
            "distinct": 3,
            "categories": {"basic": 500, "premium": 250, "__other__": 50},
        },
    ],
}
