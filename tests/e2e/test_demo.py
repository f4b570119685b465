"""The README's main job: ``driftline demo`` passes end to end in separate processes.

The story is asserted from the audit stream itself (the ``driftline.audit`` topic, read with a
plain consumer), then through ``driftline audit tail`` and the lineage API, never from the
demo's own log text alone. A second test kills a service mid-demo and expects a prompt,
named failure instead of a hang.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftline.stack import LocalStack
from driftline.stack.state import load_state
from driftline_contracts import topics
from driftline_contracts.events import AuditDigestSigned
from tests.integration.kafka_helpers import header, read_all

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
]

MODEL = "cancer-classifier"
DATASET = "breast-cancer"

STORY: list[tuple[str, str, int | None]] = [
    # (event kind, subject, model version or None) in the order the story must happen
    ("spec.applied", MODEL, None),
    ("data.arrived", DATASET, None),
    ("data.validated", DATASET, None),
    ("data.rejected", DATASET, None),
    ("training.model-trained", MODEL, None),
    ("registry.registered", MODEL, 1),
    ("registry.approved", MODEL, 1),
    ("deployment.promoted", MODEL, 1),
    ("monitoring.drift-detected", MODEL, None),
    ("training.started", MODEL, None),
    ("training.model-trained", MODEL, None),
    ("registry.approved", MODEL, 2),
    ("deployment.canary-started", MODEL, 2),
    ("deployment.canary-step-advanced", MODEL, 2),
    ("deployment.promoted", MODEL, 2),
    ("spec.applied", MODEL, None),
    ("training.model-trained", MODEL, None),
    ("deployment.canary-started", MODEL, 3),
    ("deployment.canary-rolled-back", MODEL, 3),
]


QUIET = ("monitoring.predictions-logged", "monitoring.ground-truth-received")
"""Traffic events: correlated per request batch, not with the lifecycle."""


def _demo_env(tmp_path: Path) -> dict[str, str]:
    return {
        "COLUMNS": "200",
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DRIFTLINE_SERVICE_PORTS": "free",  # the other test worker may run services too
    }


def _kind(ce_type: str) -> str:
    return ce_type.removeprefix("io.driftline.").rsplit(".v", 1)[0]


def _version(data: dict[str, Any]) -> int | None:
    model = data.get("model")
    return model.get("version") if isinstance(model, dict) else None


def _stream_ids(home: Path) -> set[str]:
    """Event ids on the audit topic and the pipelines' DataArrived topic, now (without the
    audit sink's own digests: they witness the chain and are not entries of it)."""
    info = LocalStack(home).info()
    records = asyncio.run(
        read_all(info.kafka_bootstrap, topics.AUDIT, lambda _: True, timeout_s=60)
    ) + asyncio.run(read_all(info.kafka_bootstrap, topics.DATA_ARRIVED, lambda _: True))
    digest = AuditDigestSigned.ce_type
    return {header(r, "ce_id") or "" for r in records if header(r, "ce_type") != digest}


def _not_yet_on_stream(home: Path, ids: set[str], *, within_s: float = 30) -> set[str]:
    """The ids a read of the stream still lacks after re-reading it for up to ``within_s``.

    A read stops at the end offsets the broker reports when it starts, and tansu's reported
    end can trail records its fetches already serve (the sink had consumed one the read did
    not reach, in a CI run); a record the sink consumed is on the stream, so it shows up.
    """
    deadline = time.monotonic() + within_s
    while (missing := ids - _stream_ids(home)) and time.monotonic() < deadline:
        time.sleep(1)
    return missing


def _audit_stream(home: Path) -> list[tuple[str, str, int | None, dict[str, Any], str, str]]:
    """(kind, subject, version, data, actor, correlation id) of every audited event, in order:
    the audit topic plus the pipelines' DataArrived topic (an upload's DataArrived is on both;
    kept once)."""
    info = LocalStack(home).info()
    # Services' events reach the audit topic through their outbox relays; pipelines publish
    # DataArrived straight to its own topic, which the audit sink also records.
    records = asyncio.run(
        read_all(info.kafka_bootstrap, topics.AUDIT, lambda _: True, timeout_s=60)
    ) + asyncio.run(read_all(info.kafka_bootstrap, topics.DATA_ARRIVED, lambda _: True))
    events, seen = [], set()
    for record in sorted(records, key=lambda r: (r.timestamp, r.partition, r.offset)):
        if header(record, "ce_id") in seen:
            continue
        seen.add(header(record, "ce_id"))
        data = json.loads(record.value)
        events.append(
            (
                _kind(header(record, "ce_type") or ""),
                header(record, "ce_subject") or "",
                _version(data),
                data,
                header(record, "ce_actor") or "",
                header(record, "ce_correlationid") or "",
            )
        )
    return events


def _missing_from_story(events: list[tuple[str, str, int | None, Any, str, str]]) -> list[str]:
    """The story's steps not found, in order, in the audited events."""
    missing, position = [], 0
    for kind, subject, version in STORY:
        hit = next(
            (
                i
                for i in range(position, len(events))
                if events[i][0] == kind
                and events[i][1] == subject
                and (version is None or events[i][2] == version)
            ),
            None,
        )
        if hit is None:
            missing.append(f"{kind} {subject}{'' if version is None else f'@{version}'}")
        else:
            position = hit + 1
    return missing


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def demo_home(tmp_path: Path) -> Iterator[Path]:
    """A home folder for one demo; whatever it left running is stopped at the end."""
    home = tmp_path / "home"
    yield home
    subprocess.run(
        [sys.executable, "-m", "driftline", "stack", "down", "--home", str(home)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    leftovers = subprocess.run(
        ["pgrep", "-f", str(home)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert leftovers == [], "processes left running"


@pytest.mark.timeout(900)
def test_demo_story_is_in_the_audit_stream(tmp_path: Path, demo_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "driftline", "demo", "--home", str(demo_home), "--keep-running"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=_demo_env(tmp_path),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "demo passed" in output
    assert "matches the bytes in S3" in output
    assert re.search(r"console: http://127\.0\.0\.1:\d+ ", output.split("demo passed")[-1]), (
        "with --keep-running the demo ends by printing the console's URL"
    )

    events = _audit_stream(demo_home)
    timeline = [(e[0], e[1], e[2]) for e in events if e[0] not in QUIET]
    assert _missing_from_story(events) == [], timeline
    kinds = [kind for kind, *_ in events]
    assert {"monitoring.predictions-logged", "monitoring.ground-truth-received"} <= set(kinds)
    assert kinds.count("monitoring.drift-detected") == 1, "one DriftDetected per episode"
    validated = [e for e in events if e[0] == "data.validated" and e[1] == DATASET]
    assert len(validated) == 1, "same bytes twice must not validate twice"
    assert all(e[4] for e in events), "every audited event names its actor"
    # The closed loop is one correlated chain: drift → retrain → gates → canary → promotion,
    # and the episode's DriftResolved (which may come before or after the promotion), all
    # carry the DriftDetected's correlation id.
    drift_at = kinds.index("monitoring.drift-detected")
    promoted_at = next(
        i for i, e in enumerate(events) if e[0] == "deployment.promoted" and e[2] == 2
    )
    loop = [e for e in events[drift_at : promoted_at + 1] if e[1] == MODEL and e[0] not in QUIET]
    loop += [e for e in events if e[0] == "monitoring.drift-resolved"]
    assert kinds.count("monitoring.drift-resolved") == 1, "one DriftResolved per episode"
    assert {e[5] for e in loop} == {events[drift_at][5]}, [(e[0], e[5][:8]) for e in loop]
    assert {"training.model-trained", "deployment.canary-started"} <= {e[0] for e in loop}

    audit_url = load_state(demo_home).services["audit"].url
    before = _stream_ids(demo_home)  # the services keep running: more events may come
    tail = subprocess.run(
        [sys.executable, "-m", "driftline", "audit", "tail", "--json", "--url", audit_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    entries = [json.loads(line) for line in tail.stdout.splitlines()]
    assert [e["seq"] for e in entries] == sorted({e["seq"] for e in entries})
    shown = {e["id"] for e in entries}
    assert before <= shown, "audit tail shows the stream's events"
    assert _not_yet_on_stream(demo_home, shown) == set(), "the tail shows only streamed events"
    assert all(e["actor"] for e in entries)
    human = subprocess.run(
        [sys.executable, "-m", "driftline", "audit", "tail", "--model", MODEL, "--url", audit_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    assert "service:deployment" in human
    assert "deployment.promoted" in human

    live = [e for e in events if e[0] == "deployment.promoted"][-1][2]
    lineage = _get_json(f"{audit_url}/v1/lineage/{MODEL}/{live}")
    assert lineage["missing_parent"] is None
    assert lineage["cycle_at"] is None
    roots = [s["facts"] for s in lineage["steps"] if s["facts"].get("dataset_sha256")]
    assert roots, "the lineage reaches the dataset"
    info = LocalStack(demo_home).info()
    bucket, _, key = roots[0]["dataset_uri"].removeprefix("s3://").partition("/")
    from minio import Minio

    s3 = Minio(
        info.s3_endpoint,
        access_key=info.s3_access_key,
        secret_key=info.s3_secret_key,
        secure=False,
        region="us-east-1",
    )
    body = s3.get_object(bucket, key)
    try:
        assert hashlib.sha256(body.read()).hexdigest() == roots[0]["dataset_sha256"]
    finally:
        body.close()
        body.release_conn()


@pytest.mark.timeout(600)
def test_killing_a_service_fails_the_demo_naming_the_step(tmp_path: Path, demo_home: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "driftline", "demo", "--home", str(demo_home), "--no-timeline"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_demo_env(tmp_path),
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line)
        if "all services ready" in line:
            break
    training = load_state(demo_home).services["training"].pid
    os.kill(training, signal.SIGKILL)
    killed_at = time.monotonic()
    lines += process.stdout.readlines()
    code = process.wait(timeout=300)
    output = "".join(lines)
    assert code == 1, output[-3000:]
    assert "demo failed" in output
    assert "service training" in output
    assert "no longer running" in output
    assert "demo passed" not in output
    # the failure is named as soon as a poll notices, not after a step's full timeout
    assert time.monotonic() - killed_at < 120, output[-3000:]
