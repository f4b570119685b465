"""The drift report of one window: a JSON document and the distributions its HTML draws."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from driftline.monitoring.evaluation import PREDICTION, Reference, WindowData, WindowResult
from driftline.monitoring.histograms import Distribution, distribution
from driftline.monitoring.row_flags import RowFlags
from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import DatasetRef, TimeWindow


def build_report(
    *,
    model: str,
    version: int,
    window_id: str,
    window: TimeWindow,
    rows: int,
    policy: DriftPolicy,
    reference: DatasetRef | None,
    result: WindowResult,
    distributions: Sequence[Distribution] = (),
    row_flags: RowFlags | None = None,
) -> dict[str, Any]:
    """The JSON report: identity, window, policy, reference, every verdict, the
    reference-vs-current distributions the HTML draws (the console plots them too) and the
    rows served with values their version never saw in training (``row_flags``)."""
    flags = row_flags if row_flags is not None else RowFlags(rows=rows, flagged_rows=0)
    return {
        "model": model,
        "version": version,
        "window_id": window_id,
        "window": window.model_dump(mode="json"),
        "rows": rows,
        "policy": policy.model_dump(mode="json"),
        "reference_dataset": reference.model_dump(mode="json") if reference else None,
        "result": result.model_dump(mode="json"),
        "distributions": [d.model_dump(mode="json") for d in distributions],
        "row_flags": flags.model_dump(mode="json"),
    }


def distributions(
    reference: Reference, window: WindowData, result: WindowResult
) -> list[Distribution]:
    """One reference-vs-current distribution per tested feature, then the prediction's."""
    found = []
    for feature in result.features:
        column = reference.profile.column(feature.feature)
        if column is not None and feature.feature in window.features:
            found.append(distribution(feature.feature, column, window.features[feature.feature]))
    target = reference.profile.column(reference.target)
    if result.prediction is not None and target is not None:
        found.append(distribution(PREDICTION, target, window.predictions))
    return found
