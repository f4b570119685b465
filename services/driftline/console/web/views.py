"""Page contents from read-model rows: grouping, chart series and comparisons, no I/O."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from driftline.console.charts import Series, bar_chart, line_chart, lineage_graph
from driftline.console.ports import Row


@dataclass
class Rollout:
    """One canary rollout of a version: its steps in order and how it ended."""

    canary_id: str
    version: int
    steps: list[Row] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """running, promoted or rolled_back."""
        kinds = {s["kind"] for s in self.steps}
        return next((k for k in ("rolled_back", "promoted") if k in kinds), "running")


def rollouts(steps: Sequence[Row]) -> list[Rollout]:
    """Steps grouped by rollout, newest rollout first."""
    found: dict[str, Rollout] = {}
    for step in steps:
        rollout = found.setdefault(step["canary_id"], Rollout(step["canary_id"], step["version"]))
        rollout.steps.append(step)
    return list(reversed(found.values()))


def _label(when: datetime | None) -> str:
    return when.strftime("%m-%d %H:%M") if when else "?"


def drift_charts(windows: Sequence[Row]) -> list[tuple[str, str]]:
    """(feature, SVG) per feature: its statistic over window ends, threshold dashed."""
    by_feature: dict[str, list[Row]] = {}
    for window in windows:
        by_feature.setdefault(window["feature"], []).append(window)
    charts = []
    for feature, rows in sorted(by_feature.items()):
        test = rows[-1]["test"]
        # Hypothesis tests hold the p-value to the threshold; distances hold the statistic.
        column = "p_value" if rows[-1]["p_value"] is not None else "statistic"
        measure = f"{test} p-value" if column == "p_value" else f"{test} statistic"
        points = [
            (_label(r["window_end"]), float(r[column])) for r in rows if r[column] is not None
        ]
        svg = line_chart(
            f"{feature}: {measure} per window",
            [Series(measure, points)],
            x_label="window end (UTC)",
            y_label=measure,
            threshold=rows[-1]["threshold"],
        )
        charts.append((feature, svg))
    return charts


def metric_chart(versions: Sequence[Row]) -> str:
    """Each holdout metric across versions, oldest version first."""
    ordered = sorted(versions, key=lambda v: v["version"])
    names = sorted({m for v in ordered for m in (v.get("metrics") or {})})
    series = [
        Series(
            name,
            [
                (f"v{v['version']}", float(v["metrics"][name]))
                for v in ordered
                if name in (v.get("metrics") or {})
            ],
        )
        for name in names[:6]
    ]
    return line_chart("Holdout metrics by version", series, x_label="version", y_label="value")


@dataclass(frozen=True)
class Comparison:
    """Runs side by side: one row per parameter and metric, flagged where they differ."""

    runs: list[Row]
    params: list[tuple[str, list[Any], bool]]
    metrics: list[tuple[str, list[Any], bool]]
    charts: list[str]


def _side_by_side(runs: Sequence[Row], column: str) -> list[tuple[str, list[Any], bool]]:
    keys = sorted({k for r in runs for k in (r.get(column) or {})})
    table = []
    for key in keys:
        values = [(r.get(column) or {}).get(key) for r in runs]
        table.append((key, values, len({json.dumps(v) for v in values}) > 1))
    return table


def compare_runs(runs: Sequence[Row]) -> Comparison:
    """The compare view of two or more runs, with a bar chart per metric."""
    metrics = _side_by_side(runs, "metrics")
    charts = [
        bar_chart(
            f"{name} by run",
            [
                (r["run_id"], float(v))
                for r, v in zip(runs, values, strict=True)
                if isinstance(v, int | float)
            ],
            x_label="run",
            y_label=name,
        )
        for name, values, _ in metrics
    ]
    return Comparison(list(runs), _side_by_side(runs, "params"), metrics, charts)


def _fact_line(facts: dict[str, Any]) -> str:
    shown = []
    for key, value in facts.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        shown.append(f"{key}={text}")
    return " · ".join(shown)


def lineage_svg(lineage: Row) -> str:
    """The lineage chain (the dataset's own chain first) drawn top to bottom."""
    steps = [*lineage.get("data", []), *lineage.get("steps", [])]
    boxes = [
        (f"{short_type(s['type'])} · {s['subject']} · {s['actor']}", _fact_line(s.get("facts", {})))
        for s in steps
    ]
    return lineage_graph("Lineage, root cause first", boxes)


def short_type(ce_type: str) -> str:
    """``io.driftline.registry.approved.v1`` → ``registry.approved``."""
    parts = ce_type.split(".")
    if len(parts) > 3 and ce_type.startswith("io.driftline."):
        return ".".join(parts[2:-1])
    return ce_type


def pretty(value: Any) -> str:
    """A payload as indented JSON for a <pre> block."""
    return json.dumps(value, indent=2, sort_keys=True, default=str)
