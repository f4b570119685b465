"""A copy of an estimator that takes a float array instead of a named frame, when that is safe.

scikit-learn spends most of a one-row ``predict`` on a DataFrame checking its column names
and dtypes. Serving checks the names itself (exactly the training features, in order), so for
estimators that use names only for that check the same numbers can go in as an array. The
twin is the estimator without ``feature_names_in_`` (so no warning either), built only for
plain scikit-learn estimators and pipelines of them: no ``ColumnTransformer`` or
``FeatureUnion`` (they select columns by name) and no pandas output configured. It must give
the same predictions as the original on a probe row, or there is no twin.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

BY_NAME = {"ColumnTransformer", "FeatureUnion", "FunctionTransformer"}


def _parts(estimator: Any) -> Iterator[Any]:
    yield estimator
    for _, step in getattr(estimator, "steps", None) or ():
        yield from _parts(step)


def _eligible(estimator: Any) -> bool:
    for part in _parts(estimator):
        if part in (None, "passthrough"):
            continue
        if not type(part).__module__.startswith("sklearn.") or type(part).__name__ in BY_NAME:
            return False
        if getattr(part, "_sklearn_output_config", None):
            return False
    return True


def _same(original: Any, twin: Any, features: Sequence[str]) -> bool:
    probe = np.ones((1, len(features)))
    frame = pd.DataFrame(probe, columns=pd.Index(list(features), dtype=object))
    # Warnings are recorded, never turned into errors: the filters are process-wide, and models
    # load in a worker thread while the event loop serves, so an "error" filter here made an
    # unrelated warning raised on the loop (a deprecation in a routing query) a 500.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        same = np.array_equal(original.predict(frame), twin.predict(probe))
        if same and hasattr(original, "predict_proba"):
            same = bool(np.allclose(original.predict_proba(frame), twin.predict_proba(probe)))
    return same and not caught  # any warning (even another thread's) is doubt: serve frames


def array_twin(estimator: Any, features: Sequence[str]) -> Any | None:
    """The estimator ready for float arrays in ``features`` order, or None if not safe."""
    if getattr(estimator, "feature_names_in_", None) is None or not _eligible(estimator):
        return None
    twin = copy.deepcopy(estimator)
    for part in _parts(twin):
        if "feature_names_in_" in vars(part):  # a Pipeline's is a property of its first step
            del part.feature_names_in_
    try:
        return twin if _same(estimator, twin, features) else None
    except Exception:  # any doubt (a warning, an error on the probe): serve frames
        return None
