"""Demo steps for the model: apply a spec, then watch it train, register and get approved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console

from driftline.cli.demo_http import get_json, poll, post_json

MODEL = "cancer-classifier"
DATASET = "breast-cancer"
console = Console()
SPEC: dict[str, Any] = {
    "model": MODEL,
    "dataset": DATASET,
    "target": "target",
    "task": "classification",
    "trainer": {
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 100, "max_depth": 6},
    },
    "split": {"holdout": 0.25, "seed": 42},
    "gates": [{"metric": "accuracy", "min": 0.9}, {"metric": "roc_auc", "beat_champion": 0.0}],
    "canary": {"steps": [25, 50, 100], "min_requests": 40, "min_duration_s": 0},
}


def model_events(urls: dict[str, str], kind: str) -> list[dict[str, Any]]:
    """Audited events about the demo model whose type contains ``kind``."""
    found = get_json(f"{urls['audit']}/v1/audit/events?model={MODEL}&type={kind}")
    return found if isinstance(found, list) else []


def apply_spec(urls: dict[str, str], done: Callable[[str], None]) -> None:
    """``driftline apply``: the data scientist's spec goes to the registry."""
    answer = post_json(
        f"{urls['registry']}/v1/specs", SPEC, headers={"X-Driftline-Actor": "user:data-scientist"}
    )
    digest = str(answer.get("spec_hash", ""))[:12]
    done(f"spec applied for {MODEL} (RandomForest, gates accuracy ≥ 0.9) hash {digest}")


def model_steps(urls: dict[str, str], done: Callable[[str], None]) -> None:
    """Training on the accepted data, then registration and the gates."""
    trained = poll(
        "training produces a model", lambda: model_events(urls, "model-trained"), timeout_s=180
    )
    metrics = trained[0]["data"]["metrics"]
    shown = ", ".join(f"{k}={v:.3f}" for k, v in sorted(metrics.items()))
    done(f"training: run {trained[0]['data']['run_id']} on v1 → {shown}")
    poll("the registry registers v1", lambda: model_events(urls, "registry.registered"))
    approved = poll("the gates approve v1", lambda: model_events(urls, "registry.approved"))
    done(f"registry: {MODEL} v1 registered and approved by {approved[0]['actor']}")
