"""Validation reports: a JSON document and a small self-contained HTML page per outcome."""

from __future__ import annotations

import html
import json
from typing import Any

from driftline.validation.core import Verdict
from driftline_contracts.values import DatasetRef

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse;margin:1rem 0}"
    "td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}"
    ".pass{color:#1a7f37}.fail{color:#cf222e;font-weight:600}"
)


def build_report(
    dataset: DatasetRef, verdict: Verdict, *, version: int | None, baseline_version: int | None
) -> dict[str, Any]:
    """Every check with expected, observed and passed; reasons, warnings and drift tests."""
    return {
        "dataset": dataset.name,
        "uri": dataset.uri,
        "sha256": dataset.sha256,
        "format": dataset.format,
        "outcome": "accepted" if verdict.accepted else "rejected",
        "version": version,
        "baseline_version": baseline_version,
        "rows": verdict.rows,
        "models": list(verdict.models),
        "checks": [{"model": c.model, **c.result.model_dump(mode="json")} for c in verdict.checks],
        "reasons": [r.model_dump(mode="json") for r in verdict.reasons],
        "warnings": [r.model_dump(mode="json") for r in verdict.warnings],
        "drift": [_finite(d.model_dump(mode="json")) for d in verdict.drift],
    }


def report_json(report: dict[str, Any]) -> bytes:
    """The report as strict JSON bytes."""
    return json.dumps(report, indent=2, allow_nan=False).encode()


def _finite(values: dict[str, Any]) -> dict[str, Any]:
    """Non-finite floats as strings, so the report stays strict JSON."""
    return {
        k: str(v) if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))) else v
        for k, v in values.items()
    }


def _table(headers: list[str], rows: list[list[Any]], status: int | None = None) -> str:
    """An HTML table; column ``status`` (a bool) is shown as pass/fail."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            if i == status:
                label, css = ("pass", "pass") if value else ("fail", "fail")
                cells.append(f'<td class="{css}">{label}</td>')
            else:
                cells.append(f"<td>{html.escape('' if value is None else str(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def report_html(report: dict[str, Any]) -> str:
    """A self-contained HTML page (no scripts, no external assets) of the report."""
    title = f"Validation of {report['dataset']} ({report['sha256'][:12]})"
    summary = (
        f"<p>Outcome: <b>{html.escape(report['outcome'])}</b>; version "
        f"{report['version'] or '-'}; baseline {report['baseline_version'] or '-'}; "
        f"rows {report['rows'] if report['rows'] is not None else '-'}; "
        f"object <code>{html.escape(report['uri'])}</code></p>"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{summary}"
        f"<h2>Findings</h2>{_findings(report)}<h2>Checks</h2>{_checks(report)}"
        f"<h2>Distribution</h2>{_drift(report)}</body></html>"
    )


def _findings(report: dict[str, Any]) -> str:
    return _table(
        ["kind", "code", "field", "message"],
        [["rejection", r["code"], r["field"], r["message"]] for r in report["reasons"]]
        + [["warning", w["code"], w["field"], w["message"]] for w in report["warnings"]],
    )


def _checks(report: dict[str, Any]) -> str:
    keys = ["model", "code", "column", "expected", "observed", "failing_rows", "passed"]
    return _table(
        ["model", "check", "column", "expected", "observed", "failing rows", "if failed", "result"],
        [
            [*(c[k] for k in keys[:6]), c.get("severity", "reject"), c["passed"]]
            for c in report["checks"]
        ],
        status=7,
    )


def _drift(report: dict[str, Any]) -> str:
    keys = ["feature", "test", "statistic", "p_value", "threshold", "drifted"]
    return _table(
        ["feature", "test", "statistic", "p-value", "threshold", "drifted"],
        [[d[k] for k in keys] for d in report["drift"]],
    )
