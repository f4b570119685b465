"""The champion on the candidate's own holdout rows (runs in the training process).

The worker hands over the champion's artifact, already fetched and sha256-verified, or why
there is none; here it is loaded with deployment's safe loader, scored on the same rows as
the candidate, and both are compared by ``comparison.paired_bootstrap``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftline.runtime.model_loading import UnservableModelError, load_estimator
from driftline.training import comparison
from driftline.training.comparison import Outputs
from driftline.training.run_io import ChampionInput as ChampionInput
from driftline.training.servable import scoring_rows
from driftline_contracts.modelspec import ModelSpec


class ChampionUnusableError(Exception):
    """The champion cannot be loaded or scored on the candidate's holdout."""


def outputs(estimator: Any, rows: Any) -> Outputs:
    """Predictions (and probabilities, when the model gives them) on ``rows``."""
    predicted = np.asarray(estimator.predict(rows))
    proba, classes = None, tuple(getattr(estimator, "classes_", ()))
    if hasattr(estimator, "predict_proba"):
        try:
            proba = np.asarray(estimator.predict_proba(rows))
        except (AttributeError, NotImplementedError):
            proba = None
    return Outputs(predicted, proba, classes)


def _champion_outputs(path: str, rows: pd.DataFrame, features: list[str]) -> Outputs:
    try:
        estimator, expected = load_estimator(Path(path).read_bytes())
    except UnservableModelError as exc:
        raise ChampionUnusableError(f"its artifact cannot be loaded: {exc}") from exc
    missing = [name for name in expected if name not in rows.columns]
    placeholders = tuple(f"x{i}" for i in range(len(expected)))  # fitted on arrays
    if missing and expected != placeholders:
        raise ChampionUnusableError(f"it needs features this holdout lacks: {missing[:10]}")
    try:
        return outputs(estimator, scoring_rows(rows, expected, features))
    except Exception as exc:  # a champion trained on other columns or types
        message = f"it cannot score this holdout: {type(exc).__name__}: {exc}"
        raise ChampionUnusableError(message[:1500]) from exc


def _finite(found: comparison.MetricComparison) -> bool:
    values = (found.candidate, found.champion, found.delta, found.interval_low,
              found.interval_high)  # fmt: skip
    return all(math.isfinite(v) for v in values)


def _without(champion: ChampionInput, status: str, message: str) -> dict[str, Any]:
    ref = None
    if champion.version is not None:
        ref = {"name": champion.model, "version": champion.version}
    return {"status": status, "champion": ref, "message": message[:2000]}


def compare_with_champion(
    champion: ChampionInput | None,
    candidate: Any,
    holdout: pd.DataFrame,
    features: list[str],
    spec: ModelSpec,
    metrics: list[str],
) -> dict[str, Any]:
    """The ``ChampionComparison`` document of this run (JSON, for ``ModelTrained``)."""
    if champion is None or champion.version is None:
        model = spec.model if champion is None else champion.model
        return _without(ChampionInput(model), "no_champion", "no version was promoted yet")
    name = f"champion v{champion.version}"
    if champion.path is None:
        return _without(champion, "unavailable", f"{name}: {champion.problem or 'no artifact'}")
    rows = holdout.iloc[comparison.subsample(len(holdout), spec.split.seed)]
    try:
        theirs = _champion_outputs(champion.path, rows, features)
    except ChampionUnusableError as exc:
        return _without(champion, "unavailable", f"{name}: {exc}")
    try:
        found = comparison.paired_bootstrap(
            spec.task, rows[spec.target].to_numpy(), outputs(candidate, rows[features]), theirs,
            metrics, seed=spec.split.seed,
        )  # fmt: skip
    except Exception as exc:  # a comparison that breaks must not fail a good run
        return _without(champion, "unavailable", f"{name}: comparison failed: {exc!r}")
    return {
        **_without(champion, "compared",
                   f"{name} scored on the same {len(rows)} holdout rows as the candidate"),
        "rows": len(rows), "resamples": comparison.RESAMPLES,
        "confidence": comparison.CONFIDENCE, "seed": spec.split.seed,
        "metrics": [vars(m) for m in found if _finite(m)],
    }  # fmt: skip
