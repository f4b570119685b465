"""Demo steps for the model: apply a spec, then watch it train, register and get approved."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from rich.console import Console

from driftline.cli.audit_format import facts_text
from driftline.cli.demo_http import Credentials, StepFailedError, get_json, poll, post_json
from driftline.stack.info import StackInfo

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
    "drift": {"window_size": 100},
}


def model_events(urls: dict[str, str], kind: str) -> list[dict[str, Any]]:
    """Audited events about the demo model whose type contains ``kind``."""
    found = get_json(f"{urls['audit']}/v1/audit/events?model={MODEL}&type={kind}")
    return found if isinstance(found, list) else []


def apply_spec(urls: dict[str, str], done: Callable[[str], None], auth: Credentials) -> None:
    """``driftline apply``: the data scientist's spec goes to the registry."""
    answer = post_json(f"{urls['registry']}/v1/specs", SPEC, headers=auth.headers("publisher"))
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


def _rows(malignant_only: bool, count: int, seed: int) -> tuple[list[dict[str, Any]], list[int]]:
    """Feature rows and true labels drawn from the real data (or its malignant sub-population)."""
    from driftline.cli.demo_data import breast_cancer_frame

    frame = breast_cancer_frame()
    if malignant_only:
        frame = frame[frame["target"] == 0]
    sample = frame.sample(n=count, replace=True, random_state=seed)
    labels = [int(v) for v in sample.pop("target")]
    return sample.to_dict(orient="records"), labels


def _traffic(
    urls: dict[str, str], rows: list[dict[str, Any]], labels: list[int], auth: Credentials
) -> int:
    """Score rows in batches of 50 and send their ground truth; returns rows served."""
    served, app = 0, auth.headers("publisher")  # the application scores and labels
    for start in range(0, len(rows), 50):
        answer = post_json(
            f"{urls['deployment']}/v1/models/{MODEL}/predict",
            {"instances": rows[start : start + 50]},
            headers=app,
        )
        ids = [p["request_id"] for p in answer["predictions"]]
        truth = dict(zip(ids, labels[start : start + 50], strict=True))
        post_json(
            f"{urls['deployment']}/v1/models/{MODEL}/feedback", {"labels": truth}, headers=app
        )
        served += len(ids)
    return served


def serve_steps(urls: dict[str, str], done: Callable[[str], None], auth: Credentials) -> None:
    """Promotion, production traffic with labels, then a real sub-population shift."""
    promoted = poll(
        "deployment promotes v1", lambda: model_events(urls, "deployment.promoted"), timeout_s=90
    )
    done(
        f"deployment: v{promoted[0]['data']['model']['version']} is champion "
        f"(via {promoted[0]['data']['via']})"
    )
    rows, labels = _rows(malignant_only=False, count=200, seed=1)
    served = _traffic(urls, rows, labels, auth)
    done(f"production traffic: {served} predictions served and labelled (same population)")
    rows, labels = _rows(malignant_only=True, count=300, seed=2)
    _traffic(urls, rows, labels, auth)
    detected = poll(
        "monitoring detects drift", lambda: model_events(urls, "drift-detected"), timeout_s=120
    )
    data = detected[0]["data"]
    drifted = [f["feature"] for f in data.get("features", []) if f.get("drifted")]
    done(
        f"monitoring: DriftDetected ({data.get('severity')}) on the malignant-only "
        f"sub-population; {len(drifted)} features drifted, e.g. {', '.join(drifted[:3])}"
    )

    def retrains() -> list[dict[str, Any]]:
        return [
            e
            for e in model_events(urls, "training.started")
            if e["data"].get("trigger") == "drift_detected"
        ]

    poll("training answers the drift", retrains, timeout_s=120)
    waited = model_events(urls, "retrain-skipped")
    how = "once the labels were in (the drift came first)" if waited else "at once"
    done(
        f"training answers DriftDetected {how}: retraining on the accepted data plus the "
        "labelled production rows (predictions joined with their ground truth)"
    )


def _canary(urls: dict[str, str], version: int, outcome: str, auth: Credentials) -> dict[str, Any]:
    """Drive labelled traffic until the canary of ``version`` ends; returns the ending event."""

    def ended() -> dict[str, Any] | None:
        for event in model_events(urls, "deployment.promoted") + model_events(
            urls, "canary-rolled-back"
        ):
            data = event["data"]
            ref = data.get("model") or {}
            if (
                ref.get("version") == version
                or (data.get("canary") or {}).get("version") == version
            ):
                return event
        rows, labels = _rows(malignant_only=False, count=100, seed=version * 100 + len(seen))
        seen.append(_traffic(urls, rows, labels, auth))
        return None

    seen: list[int] = []
    event = poll(f"the canary of v{version} ends ({outcome} expected)", ended, timeout_s=240)
    return event


def retrain_steps(urls: dict[str, str], done: Callable[[str], None], auth: Credentials) -> None:
    """Drift retrain → gates → canary steps → promotion of v2 → the drift episode resolves."""
    trained = poll(
        "training retrains with the labelled production data",
        lambda: model_events(urls, "model-trained")[1:],
        timeout_s=180,
    )
    first = model_events(urls, "model-trained")[0]["data"]
    data = trained[0]["data"]
    done(
        f"training: run {data['run_id']} on {data['train_rows']} rows "
        f"(v1 had {first['train_rows']}; the rest are labelled production rows), "
        f"accuracy={data['metrics'].get('accuracy', 0):.3f}"
    )
    started = poll(
        "registry approves v2 and deployment starts a canary",
        lambda: model_events(urls, "canary-started"),
        timeout_s=60,
    )
    version = started[0]["data"]["model"]["version"]
    done(
        f"canary of v{version} started: steps "
        f"{[s['traffic_percent'] for s in started[0]['data'].get('steps', [])]}"
    )
    end = _canary(urls, version, "promotion", auth)
    for step in model_events(urls, "canary-step-advanced"):
        console.print(
            f"  [dim]canary[/] step → {step['data'].get('traffic_percent')}% "
            f"verdict {step['data'].get('verdict')}"
        )
    if "promoted" not in end["type"]:
        raise StepFailedError(f"v{version} canary ended with {end['type']}")
    done(f"v{version} promoted to champion via canary")
    resolved = poll(
        "monitoring closes the drift episode", lambda: model_events(urls, "drift-resolved")
    )
    detected = model_events(urls, "drift-detected")[0]
    if resolved[0]["correlationid"] != detected["correlationid"]:
        raise StepFailedError("the drift episode's events do not share one correlation id")
    done(
        f"DriftResolved ({resolved[0]['data'].get('resolution')}): drift → retrain → canary → "
        f"promotion → resolution share correlation id {detected['correlationid'][:8]}"
    )


def bad_candidate_steps(
    urls: dict[str, str], done: Callable[[str], None], auth: Credentials
) -> None:
    """A deliberately bad model passes the loose gates but fails the canary: rollback."""
    bad = {
        **SPEC,
        "trainer": {
            "estimator": "sklearn.dummy.DummyClassifier",
            "params": {"strategy": "most_frequent"},
        },
        "gates": [{"metric": "accuracy", "min": 0.5}],
    }
    post_json(f"{urls['registry']}/v1/specs", bad, headers=auth.headers("publisher"))
    done("a data scientist applies a deliberately bad spec (always predicts one class)")
    started = poll(
        "the bad candidate reaches a canary",
        lambda: model_events(urls, "canary-started")[1:],
        timeout_s=180,
    )
    version = started[0]["data"]["model"]["version"]
    end = _canary(urls, version, "rollback", auth)
    if "rolled-back" not in end["type"]:
        raise StepFailedError(f"bad v{version} was not rolled back: {end['type']}")
    reasons = [r.get("code") for r in end["data"].get("reasons", [])]
    done(f"canary judge rolled back v{version}: {', '.join(reasons) or end['data'].get('verdict')}")


LINEAGE_KINDS = ("model-trained", "approved")
"""Event kinds the live version's lineage must contain, oldest first, before its promotion
(registration is a sibling of approval: both are caused by ModelTrained)."""
LINEAGE_TRIGGERS = ("data.validated", "drift-detected")
"""What may have started the run: accepted data, or a drift episode (with labelled rows)."""


def lineage_and_kpis(info: StackInfo, urls: dict[str, str], done: Callable[[str], None]) -> None:
    """Print how the live version came to be, check it against S3, then the delivery KPIs."""
    promoted = model_events(urls, "deployment.promoted")
    live = promoted[-1]["data"]["model"]["version"]
    chain = get_json(f"{urls['audit']}/v1/lineage/{MODEL}/{live}")
    steps = chain.get("steps", [])
    for step in steps:
        console.print(
            f"  [dim]lineage[/] {step['time'][11:19]} {step['actor']:<22} "
            f"{step['type'].removeprefix('io.driftline.'):<34} "
            f"{facts_text(step.get('facts', {}), limit=3)[:90]}",
            highlight=False,
            soft_wrap=True,
        )
    missing = missing_lineage_kinds([step["type"] for step in steps])
    if missing or chain.get("missing_parent") or chain.get("cycle_at"):
        raise StepFailedError(
            f"lineage of {MODEL}@{live} is incomplete: missing {missing}, "
            f"broken at {chain.get('missing_parent') or chain.get('cycle_at')}"
        )
    uri, recorded = dataset_of(steps)
    actual = s3_sha256(info, uri)
    if actual != recorded:
        raise StepFailedError(f"lineage says {uri} has sha256 {recorded}, S3 holds {actual}")
    done(
        f"lineage of {MODEL}@{live}: {len(steps)} events back to the data; "
        f"dataset sha256 {recorded[:12]}… matches the bytes in S3"
    )
    kpis = get_json(f"{urls['audit']}/v1/kpis?model={MODEL}")
    shown = {
        k: kpis.get(k)
        for k in (
            "promotions",
            "lead_time_median_s",
            "canaries_started",
            "rollbacks",
            "change_failure_rate",
            "mean_time_to_recover_s",
            "monitoring_coverage",
        )
    }
    console.print(
        "  [dim]kpis[/] "
        + ", ".join(
            f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()
        )
    )
    done("KPIs computed from the audit stream")


def missing_lineage_kinds(types: list[str]) -> list[str]:
    """The kinds of :data:`LINEAGE_KINDS` not found, in order, in a chain's event types."""
    missing, position = [], 0
    for kind in LINEAGE_KINDS:
        found = next((i for i, t in enumerate(types[position:], position) if kind in t), None)
        if found is None:
            missing.append(kind)
        else:
            position = found + 1
    if not any(trigger in t for t in types for trigger in LINEAGE_TRIGGERS):
        missing.append(" or ".join(LINEAGE_TRIGGERS))
    if not types or "deployment.promoted" not in types[-1]:
        missing.append("deployment.promoted (last)")
    return missing


def dataset_of(steps: list[dict[str, Any]]) -> tuple[str, str]:
    """(S3 URI, sha256) of the data at the root of a lineage chain."""
    for step in steps:
        facts = step.get("facts", {})
        if facts.get("dataset_uri") and facts.get("dataset_sha256"):
            return facts["dataset_uri"], facts["dataset_sha256"]
    raise StepFailedError("no step of the lineage names the dataset's URI and sha256")


def s3_sha256(info: StackInfo, uri: str) -> str:
    """sha256 of the object at ``s3://bucket/key``, read back from the stack's S3."""
    from minio import Minio

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    s3 = Minio(
        info.s3_endpoint,
        access_key=info.s3_access_key,
        secret_key=info.s3_secret_key,
        secure=False,
        region="us-east-1",
    )
    response = s3.get_object(bucket, key)
    try:
        digest = hashlib.sha256()
        for chunk in response.stream(1 << 20):
            digest.update(chunk)
        return digest.hexdigest()
    finally:
        response.close()
        response.release_conn()
