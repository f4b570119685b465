"""MLflow's side of the training benchmark; runs in the MLflow venv, prints timings as JSON.

``python mlflow_fit.py TRACKING_URI JOB_JSON`` where the job names parquet files (one per
round), the target, the estimator parameters and the split. Per round: read the file, split
as Driftline does, then inside ``mlflow.start_run()``: log params, fit, compute the holdout
metrics Driftline records, log them, ``mlflow.sklearn.log_model``. The bare fit of the same
estimator on the same split is timed right after (median of three). One warm-up round is not
reported.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def one_round(path: str, job: dict[str, Any]) -> dict[str, float]:
    """Seconds of the tracked run and of the bare fit for one file."""
    import mlflow
    import mlflow.sklearn
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
    from sklearn.model_selection import train_test_split

    target, params = job["target"], job["params"]
    started = time.perf_counter()
    frame = pd.read_parquet(path)
    train, test = train_test_split(
        frame, test_size=job["holdout"], random_state=job["seed"], stratify=frame[target]
    )
    features = [c for c in frame.columns if c != target]
    with mlflow.start_run():
        estimator = LogisticRegression(**params)
        mlflow.log_params(estimator.get_params())
        estimator.fit(train[features], train[target])
        probabilities = estimator.predict_proba(test[features])[:, 1]
        predicted = estimator.predict(test[features])
        mlflow.log_metrics({
            "accuracy": accuracy_score(test[target], predicted),
            "f1": f1_score(test[target], predicted),
            "roc_auc": roc_auc_score(test[target], probabilities),
            "log_loss": log_loss(test[target], probabilities),
        })  # fmt: skip
        mlflow.sklearn.log_model(estimator, name="model")
    total = time.perf_counter() - started
    fits = []
    for _ in range(3):
        bare = LogisticRegression(**params)
        fit_started = time.perf_counter()
        bare.fit(train[features], train[target])
        fits.append(time.perf_counter() - fit_started)
    return {"total": total, "fit": sorted(fits)[1]}


def main() -> None:
    """Entry point: warm-up round, then one round per file; JSON on the last stdout line."""
    import mlflow

    tracking_uri, job = sys.argv[1], json.loads(sys.argv[2])
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(job["experiment"])
    one_round(job["files"][0], job)
    rounds = [one_round(path, job) for path in job["files"]]
    print(json.dumps({"rounds": rounds, "mlflow": mlflow.__version__}))


if __name__ == "__main__":
    main()
