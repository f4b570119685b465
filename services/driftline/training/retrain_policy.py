"""Which spec changes retrain (pure): only the fields that change what training produces.

A spec also carries what other services read (gates, approval, canary and drift policy,
data expectations); changing only those must not cost a training run. The training hash
covers the training fields alone; a re-applied spec whose training hash matches the model's
previous spec trains again only if that spec's run on the same data failed (a retry).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from driftline.training.core import JobStatus, SpecRecord
from driftline_contracts.modelspec import DEFAULT_SERVING, DEFAULT_WINDOW

TRAINING_FIELDS = (
    "model", "dataset", "target", "task", "features", "trainer", "split", "metrics", "window",
    "serving",
)  # fmt: skip
"""What the run reads: the data and its training window, the columns, the trainer and its
params, the split (seed, holdout, time column) and the metrics it reports (and compares with
the champion); and the serving runtime (an ``onnx`` run also exports and checks the model),
but no other serving option (micro-batching changes only how deployment calls the model)."""


def training_hash(spec: dict[str, Any]) -> str:
    """SHA-256 of the training fields of a spec document (canonical JSON); a default window
    (or serving runtime) counts as none, so specs stored before they existed keep their hash."""
    fields = {name: spec.get(name) for name in TRAINING_FIELDS}
    if fields["window"] in (None, DEFAULT_WINDOW.model_dump(mode="json")):
        del fields["window"]
    # Only the runtime changes what a run produces; micro-batching is deployment's alone.
    runtime = (fields["serving"] or {}).get("runtime", DEFAULT_SERVING.runtime)
    if runtime == DEFAULT_SERVING.runtime:
        del fields["serving"]
    else:
        fields["serving"] = {"runtime": runtime}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def trains(new: SpecRecord, previous: SpecRecord | None, previous_run: JobStatus | None) -> bool:
    """Whether applying ``new`` queues a run on the newest data: always for a first spec or
    changed training fields; otherwise only when the previous spec's run there failed."""
    if previous is None or training_hash(new.spec) != training_hash(previous.spec):
        return True
    return previous_run in (None, "failed")
