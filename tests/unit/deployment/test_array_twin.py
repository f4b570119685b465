"""The array twin: same predictions from a float array as the estimator from a named frame,
and no twin where names matter (column selection by name) or for non-scikit-learn objects."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from driftline.deployment.models.array_twin import _same, array_twin
from driftline.deployment.models.loading import LoadedModel
from driftline.deployment.models.predictor import predict_rows

FRAME, TARGET = load_breast_cancer(return_X_y=True, as_frame=True)
FEATURES = tuple(str(c) for c in FRAME.columns)


def test_a_pipeline_twin_predicts_the_same_from_arrays_without_warnings() -> None:
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(FRAME, TARGET)
    twin = array_twin(model, FEATURES)
    assert twin is not None
    assert hasattr(model, "feature_names_in_"), "the original keeps its names"
    matrix = FRAME.to_numpy()[:50]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(twin.predict(matrix), model.predict(FRAME.iloc[:50]))
        assert np.allclose(twin.predict_proba(matrix), model.predict_proba(FRAME.iloc[:50]))


def test_served_rows_are_the_same_through_the_array_path() -> None:
    # Newton's method converges on these unscaled features in 0.03 s; lbfgs took 44 s.
    model = LogisticRegression(solver="newton-cholesky").fit(FRAME, TARGET)
    loaded = LoadedModel(model, FEATURES, array_twin(model, FEATURES))
    by_array = predict_rows(loaded, FRAME.to_numpy()[:20])
    by_frame = predict_rows(loaded, FRAME.iloc[:20])
    assert by_array == by_frame


def test_no_twin_when_columns_are_selected_by_name() -> None:
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    selecting = make_pipeline(
        ColumnTransformer([("scaled", StandardScaler(), ["b"])]), LogisticRegression()
    ).fit(frame, [0, 0, 1, 1])
    assert array_twin(selecting, ("a", "b")) is None


def test_no_twin_for_a_model_trained_on_arrays() -> None:
    model = LogisticRegression().fit(np.array([[0.0], [1.0], [2.0], [3.0]]), [0, 0, 1, 1])
    assert array_twin(model, ("x0",)) is None


class _WarnsElsewhere:
    """An estimator whose predict waits for another thread that warns meanwhile, as the event
    loop's thread may while a model loads in a worker thread."""

    def __init__(self) -> None:
        self.raised: list[BaseException] = []

    def predict(self, rows: object) -> np.ndarray:
        def elsewhere() -> None:
            try:
                warnings.warn("a deprecation on the event loop", DeprecationWarning, stacklevel=1)
            except BaseException as error:
                self.raised.append(error)

        other = threading.Thread(target=elsewhere)
        other.start()
        other.join()
        return np.zeros(1)


def test_checking_a_twin_never_turns_another_threads_warning_into_an_error() -> None:
    original = _WarnsElsewhere()
    same = _same(original, _WarnsElsewhere(), ["a", "b"])
    assert original.raised == []
    assert same is False  # a warning, whoever's, is doubt: serve frames
