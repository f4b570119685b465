"""Simple preprocessing so real CSVs train: median-imputed numbers, one-hot categories."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder


def _is_categorical(dtype: object) -> bool:
    return (
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def column_kinds(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Numeric and categorical columns; others (dates, mixed objects) are left out."""
    numeric, categorical = [], []
    for column in frame.columns:
        dtype = frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype):
            categorical.append(column)
        elif pd.api.types.is_numeric_dtype(dtype):
            numeric.append(column)
        elif _is_categorical(dtype):
            categorical.append(column)
    return numeric, categorical


def with_preprocessing(estimator: Any, features: pd.DataFrame) -> Pipeline:
    """``estimator`` behind a ColumnTransformer fitted to the kinds of ``features``."""
    numeric, categorical = column_kinds(features)
    steps: list[tuple[str, Any, list[str]]] = []
    if numeric:
        steps.append(("numeric", SimpleImputer(strategy="median"), numeric))
    if categorical:
        encode = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("onehot", OneHotEncoder(handle_unknown="ignore")),
            ]
        )
        steps.append(("categorical", encode, categorical))
    prep = ColumnTransformer(steps, remainder="drop")
    return Pipeline([("preprocess", prep), ("model", estimator)])
