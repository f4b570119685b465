"""A data scientist's notebook, as a plain script: train LightGBM on a public dataset (shipped
in scikit-learn's wheel), log the run with its parameters and a validation-loss curve through
``driftline.client``, and submit the model as a candidate of a model the platform serves.

    python tests/integration/lightgbm_notebook.py TRAINING_URL MODEL   # token: $DRIFTLINE_TOKEN
"""

from __future__ import annotations

import json
import sys
from typing import Any

import lightgbm as lgb
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from driftline.client import Client

PARAMS = {"n_estimators": 60, "learning_rate": 0.1, "num_leaves": 8, "min_child_samples": 10}


def cancer() -> pd.DataFrame:
    """The breast-cancer data, column names without spaces (as the platform's dataset has)."""
    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    return frame


def notebook(url: str, model: str, token: str | None = None) -> dict[str, Any]:
    """Train, log and submit; the run id, the submission and the logged curve."""
    frame = cancer()
    features, target = frame.drop(columns="target"), frame["target"]
    x_train, x_valid, y_train, y_valid = train_test_split(
        features, target, test_size=0.25, random_state=7, stratify=target
    )
    curve: dict[str, Any] = {}
    estimator = lgb.LGBMClassifier(**PARAMS, random_state=7, verbose=-1)
    estimator.fit(x_train, y_train, eval_set=[(x_valid, y_valid)], eval_metric="binary_logloss",
                  callbacks=[lgb.record_evaluation(curve)])  # fmt: skip
    losses = curve["valid_0"]["binary_logloss"]
    with Client(token=token, urls={"training": url}) as client:
        with client.start_run(f"{model}-notebook", name="lightgbm") as run:
            run.log_params(PARAMS)
            for step, loss in enumerate(losses):
                run.log_metrics({"valid_logloss": loss}, step=step)
            run.log_metrics({"valid_accuracy": float(estimator.score(x_valid, y_valid))})
            sent = run.submit_model(estimator, model=model)
        done = client.wait_for_submission(sent.submission_id, timeout_s=180)
        history = client.metric_history(run.run_id, "valid_logloss")
    return {"run_id": run.run_id, "sent": sent, "done": done, "points": len(history),
            "losses": losses}  # fmt: skip


if __name__ == "__main__":
    seen = notebook(sys.argv[1], sys.argv[2])
    done = seen["done"].model_dump(mode="json")
    print(json.dumps({"run_id": seen["run_id"], "submission": done}))
