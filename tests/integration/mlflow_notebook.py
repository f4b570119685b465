"""A notebook's MLflow logging, run by the unmodified ``mlflow`` client in its own venv.

``python mlflow_notebook.py EXPERIMENT`` with ``MLFLOW_TRACKING_URI`` pointing at Driftline's
training service and ``MLFLOW_TRACKING_TOKEN`` a publisher token; prints what it saw as JSON.
"""

import json
import sys
import tempfile
from pathlib import Path

import mlflow
from mlflow import MlflowClient


def main(experiment: str) -> dict:
    """Log a parent run with a curve, a tag, artifacts and a nested run; a second run; search."""
    mlflow.set_experiment(experiment)
    notes = Path(tempfile.mkdtemp()) / "notes.txt"
    notes.write_text("trained from a notebook\n")
    with mlflow.start_run(run_name="sgd-alpha-0.1") as parent:
        mlflow.log_params({"alpha": 0.1, "penalty": "l2"})
        mlflow.log_param("max_iter", 20)
        for step, loss in enumerate([0.9, 0.6, 0.45, 0.5]):
            mlflow.log_metric("loss", loss, step=step)
        mlflow.log_metrics({"accuracy": 0.91, "f1": 0.88})
        mlflow.set_tag("team", "fraud")
        mlflow.log_artifact(str(notes))
        mlflow.log_artifact(str(notes), artifact_path="reports")
        with mlflow.start_run(run_name="fold-1", nested=True) as child:
            mlflow.log_param("fold", 1)
            mlflow.log_metric("accuracy", 0.9)
    with mlflow.start_run(run_name="sgd-alpha-1.0") as other:
        mlflow.log_params({"alpha": 1.0, "penalty": "l2"})
        mlflow.log_metric("accuracy", 0.85)
    client = MlflowClient()
    found = mlflow.search_runs(experiment_names=[experiment], output_format="list")
    picked = mlflow.search_runs(
        experiment_names=[experiment], filter_string="params.alpha = '0.1'", output_format="list"
    )
    best = mlflow.search_runs(
        experiment_names=[experiment], order_by=["metrics.accuracy DESC"], output_format="list"
    )
    downloaded = mlflow.artifacts.download_artifacts(
        run_id=parent.info.run_id, artifact_path="reports/notes.txt"
    )
    return {
        "experiment_id": client.get_experiment_by_name(experiment).experiment_id,
        "parent": parent.info.run_id,
        "child": child.info.run_id,
        "other": other.info.run_id,
        "found": sorted(r.info.run_id for r in found),
        "picked": [r.info.run_id for r in picked],
        "best": best[0].info.run_id,
        "child_parent_tag": client.get_run(child.info.run_id).data.tags.get("mlflow.parentRunId"),
        "status": client.get_run(parent.info.run_id).info.status,
        "loss": [(m.step, m.value) for m in client.get_metric_history(parent.info.run_id, "loss")],
        "artifacts": sorted(f.path for f in client.list_artifacts(parent.info.run_id)),
        "downloaded": Path(downloaded).read_text(),
        "missing": client.get_experiment_by_name(f"{experiment}-never-created") is None,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
