"""Validation journeys on the real local stack: S3 objects in, DataValidated/DataRejected out."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from aiokafka import ConsumerRecord
from minio import Minio

from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline.stats.profile import DatasetProfile
from driftline.training.adapters.datasets import fetch_dataset
from driftline.training.runner import read_frame
from driftline.validation.adapters.postgres import PostgresValidationRepository
from driftline.validation.app import definition
from driftline.validation.settings import ValidationSettings
from driftline_contracts import topics
from driftline_contracts.codec import decode
from driftline_contracts.events.data import DataArrived, DataRejected, DataValidated
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.publish import publish
from driftline_contracts.values import DatasetRef
from tests.integration.kafka_helpers import environment, header, read_all, read_topic
from tests.signing import publish_signed

pytestmark = pytest.mark.integration

UID = uuid.uuid4().hex[:10]
DATASET = f"customers-{UID}"
MODEL = f"churn-{UID}"
EXPECTATIONS = {
    "columns": [
        {"name": "age", "dtype": "integer", "min": 0, "max": 120, "max_null_rate": 0.05},
        {"name": "plan", "dtype": "string", "allowed": ["basic", "pro"]},
        {"name": "spend", "dtype": "float"},
        {"name": "label", "dtype": "integer"},
    ]
}


@pytest.fixture(scope="module")
async def validation(local_stack: StackInfo) -> AsyncIterator[ServiceRuntime]:
    """The validation service running in-process on the stack."""
    with environment(local_stack.env()):
        settings = ValidationSettings()
    runtime = ServiceRuntime(definition(), settings)
    await runtime.start()
    yield runtime
    await runtime.stop()


def _frame(seed: int, shift: float = 0.0, rows: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "plan": rng.choice(["basic", "pro"], rows),
            "spend": rng.normal(100 + shift, 10, rows).round(3),
            "label": rng.integers(0, 2, rows),
        }
    )


def _put(stack: StackInfo, key: str, data: bytes, dataset: str = DATASET) -> DatasetRef:
    client = Minio(
        stack.s3_endpoint,
        access_key=stack.s3_access_key,
        secret_key=stack.s3_secret_key,
        secure=False,
        region="us-east-1",
    )
    client.put_object(stack.bucket, key, io.BytesIO(data), len(data), content_type="text/csv")
    return DatasetRef(
        name=dataset,
        uri=f"s3://{stack.bucket}/{key}",
        sha256=hashlib.sha256(data).hexdigest(),
        format="csv",
        size_bytes=len(data),
    )


async def _publish(stack: StackInfo, name: str, data: bytes, dataset: str = DATASET) -> str:
    """Write ``data`` to S3 and publish DataArrived for it; returns the envelope id."""
    ref = await asyncio.to_thread(_put, stack, f"datasets/{dataset}/{name}", data, dataset)
    sent = await publish(
        DataArrived(dataset=ref),
        bootstrap_servers=stack.kafka_bootstrap,
        source="pipeline/test",
        actor="pipeline:test",
    )
    return sent.id


def _caused_by(event_id: str) -> Callable[[ConsumerRecord], bool]:
    return lambda record: header(record, "ce_causationid") == event_id


async def _outcome(stack: StackInfo, event_id: str) -> DataValidated | DataRejected:
    """The DataValidated or DataRejected that ``event_id`` caused."""
    validated, rejected = (
        asyncio.create_task(
            read_topic(stack.kafka_bootstrap, topic, _caused_by(event_id), timeout_s=45)
        )
        for topic in (topics.DATA_VALIDATED, topics.DATA_REJECTED)
    )
    done, pending = await asyncio.wait({validated, rejected}, return_when="FIRST_COMPLETED")
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    (record,) = done.pop().result()
    _, event = decode(record.headers, record.value)
    return event


async def _arrive(
    stack: StackInfo, name: str, data: bytes, dataset: str = DATASET
) -> DataValidated | DataRejected:
    """Write ``data`` to S3, publish DataArrived, return the outcome it caused."""
    return await _outcome(stack, await _publish(stack, name, data, dataset))


async def _apply_spec(stack: StackInfo, runtime: ServiceRuntime) -> None:
    """Publish the model spec and wait until validation has stored it."""
    spec = {"dataset": DATASET, "target": "label", "expectations": EXPECTATIONS}
    await publish_signed(
        stack,
        ModelSpecApplied(
            model=MODEL,
            dataset=DATASET,
            task="classification",
            target="label",
            trainer="sklearn.logistic_regression",
            spec_hash=hashlib.sha256(repr(spec).encode()).hexdigest(),
            spec=spec,
        ),
        source="cli/test",
        actor="user:test",
    )
    async with asyncio.timeout(45):
        while True:
            async with runtime.units() as uow:
                if await PostgresValidationRepository(uow.session).specs_for(DATASET):
                    return
            await asyncio.sleep(0.3)


async def test_validation_journey(local_stack: StackInfo, validation: ServiceRuntime) -> None:
    await _apply_spec(local_stack, validation)

    good = _frame(0).to_csv(index=False).encode()
    first = await _arrive(local_stack, "v1.csv", good)
    assert isinstance(first, DataValidated), first
    assert (first.dataset.version, first.models, first.warnings) == (1, [MODEL], [])
    profile = await validation.store.get_bytes(first.profile.uri, sha256=first.profile.sha256)
    assert hashlib.sha256(profile).hexdigest() == first.profile.sha256
    assert DatasetProfile.model_validate_json(profile).rows == 1000

    corrupted = _frame(1).drop(columns=["plan"])
    corrupted["age"] = corrupted["age"].astype("float64")
    corrupted.loc[:49, "age"] = 400.0
    corrupted.loc[500:799, "age"] = np.nan  # 30% nulls
    rejected = await _arrive(local_stack, "v2-bad.csv", corrupted.to_csv(index=False).encode())
    assert isinstance(rejected, DataRejected), rejected
    found = {(r.code, r.field) for r in rejected.reasons}
    assert {("missing_column", "plan"), ("out_of_range", "age"), ("null_rate", "age")} <= found
    assert all(f"(model {MODEL})" in r.message for r in rejected.reasons)

    shifted = await _arrive(local_stack, "v2.csv", _frame(2, shift=40).to_csv(index=False).encode())
    assert isinstance(shifted, DataValidated), shifted
    assert (shifted.dataset.version, shifted.baseline_version) == (2, 1)
    assert ("distribution_shift", "spend") in {(w.code, w.field) for w in shifted.warnings}


async def test_repeated_bytes_and_hostile_files(
    local_stack: StackInfo, validation: ServiceRuntime
) -> None:
    again = await _publish(local_stack, "v1-again.csv", _frame(0).to_csv(index=False).encode())
    empty = await _arrive(local_stack, "empty.csv", b"")
    # Same dataset key, same partition: the repeat was handled before the empty file.
    for topic in (topics.DATA_VALIDATED, topics.DATA_REJECTED):
        assert await read_all(local_stack.kafka_bootstrap, topic, _caused_by(again)) == []
    latin1 = await _arrive(local_stack, "latin1.csv", "plan,city\npro,Zürich\n".encode("latin-1"))
    assert isinstance(empty, DataRejected)
    assert [r.code for r in empty.reasons] == ["empty_file"]
    assert isinstance(latin1, DataRejected)
    assert [r.code for r in latin1.reasons] == ["not_utf8"]


def _slice(seed: int, rows: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "rooms": rng.integers(1, 8, rows),
            "city": rng.choice(["Lyon", "Paris", "Nice"], rows),
            "price": rng.normal(300, 40, rows).round(1),
        }
    )


async def test_slices_are_held_to_the_data_not_its_extremes(
    local_stack: StackInfo, validation: ServiceRuntime, tmp_path: Path
) -> None:
    """The issue's journey: ';' CSV slices, no expectations block, a few odd rows."""
    slices = f"slices-{UID}"
    first = await _arrive(
        local_stack, "s1.csv", _slice(0).to_csv(index=False, sep=";").encode(), slices
    )
    assert isinstance(first, DataValidated), first
    assert first.canonical is not None
    assert first.canonical.parsed_as.delimiter == ";"
    copy = first.canonical.data
    data = await validation.store.get_bytes(copy.uri, sha256=copy.sha256)
    assert pd.read_parquet(io.BytesIO(data)).columns.tolist() == ["rooms", "city", "price"]
    # training finds the copy from the DatasetRef alone and reads the validated columns
    path = await fetch_dataset(validation.store, first.dataset, tmp_path)
    assert read_frame(path, first.dataset.format, 100_000).columns.tolist() == [
        "rooms", "city", "price",
    ]  # fmt: skip

    odd = _slice(1)
    odd.loc[:2, "price"] = -1.0  # 3 rows of 20,000 below anything seen
    second = await _arrive(local_stack, "s2.csv", odd.to_csv(index=False, sep=";").encode(), slices)
    assert isinstance(second, DataValidated), second
    assert second.dataset.version == 2
    warned = {w.field: w.message for w in second.warnings if w.code == "out_of_range"}
    assert "price" in warned
    assert "of rows, tolerance 1.000%" in warned["price"]

    broken = _slice(2).drop(columns=["city"]).to_csv(index=False, sep=";").encode()
    third = await _arrive(local_stack, "s3.csv", broken, slices)
    assert isinstance(third, DataRejected), third
    assert ("missing_column", "city") in {(r.code, r.field) for r in third.reasons}
