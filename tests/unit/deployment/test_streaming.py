"""Streaming scoring: parsing records, grouping, refusals, response records, and the consumer's
life (a stop while it joins its group closes it)."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import ClassVar

import pytest

from driftline.deployment.errors import FeatureError, UnknownModelError
from driftline.deployment.scoring import stream
from driftline.deployment.scoring.stream_messages import (
    answer,
    bad_rows,
    encode,
    groups,
    parse,
    refusal,
    refused_answer,
)
from driftline.deployment.serving.features import feature_problems
from driftline.deployment.serving.schemas import PredictionOut
from driftline.deployment.settings import DeploymentSection
from driftline.runtime.deadletter import RawRecord
from driftline.runtime.settings import KafkaSettings


def _record(value: object, offset: int = 0) -> RawRecord:
    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    return RawRecord("driftline.predict-requests", 0, offset, b"m", body, ())


def _request(rid: str, model: str = "m", key: str | None = None) -> dict:
    return {"request_id": rid, "model": model, "features": {"a": 1.0}, "routing_key": key}


def test_records_that_are_not_requests_say_why() -> None:
    broken = parse(_record(b"{not json"))
    assert broken.request is None
    assert "malformed scoring request" in str(broken.error)
    missing = parse(_record({"model": "m", "features": {}}))
    assert "request_id" in str(missing.error)
    ok = parse(_record(_request("r1")))
    assert ok.error is None
    assert ok.request is not None
    assert ok.request.request_id == "r1"


def test_requests_are_grouped_by_model_and_routing_key_once_per_request_id() -> None:
    parsed = [
        parse(_record(r, i))
        for i, r in enumerate(
            [_request("r1"), _request("r2", "n"), _request("r1"), _request("r3", key="k")]
        )
    ]
    found = groups([*parsed, parse(_record(b"x"))])
    assert {k: [p.request.request_id for p in v] for k, v in found.items()} == {  # type: ignore[union-attr]
        ("m", None): ["r1"],
        ("n", None): ["r2"],
        ("m", "k"): ["r3"],
    }


def test_feature_refusals_name_each_row_and_feature() -> None:
    exc = FeatureError(feature_problems([{"a": 1}, {"b": 2}], ["a"]))
    assert bad_rows(exc) == {1}
    reason = str(refusal(exc, 1))
    assert "missing feature 'a'" in reason
    assert "unknown feature 'b'" in reason
    assert "model 'x'" in str(refusal(UnknownModelError("x")))


def test_responses_carry_the_request_id_and_either_the_answer_or_the_reason() -> None:
    request = parse(_record(_request("r9"))).request
    assert request is not None
    served = PredictionOut(
        request_id="r9", prediction=1, probabilities={"0": 0.2, "1": 0.8}, model_version=3,
        variant="canary",
    )  # fmt: skip
    body = json.loads(encode(answer(request, served)))
    assert (body["request_id"], body["prediction"], body["model_version"]) == ("r9", 1, 3)
    assert (body["variant"], body["error"]) == ("canary", None)
    refused = json.loads(encode(refused_answer(request, ValueError("no model"))))
    assert (refused["prediction"], refused["error"], refused["model_version"]) == (
        None,
        "no model",
        None,
    )


class JoiningConsumer:
    """An ``AIOKafkaConsumer`` stand-in whose start waits for its partitions forever."""

    made: ClassVar[list[JoiningConsumer]] = []
    joining: ClassVar[asyncio.Event]

    def __init__(self, *topics: str, **config: object) -> None:
        self.stopped = False
        JoiningConsumer.made.append(self)

    async def start(self) -> None:
        JoiningConsumer.joining.set()
        await asyncio.Event().wait()  # aiokafka's start waits until the group assigns

    async def stop(self) -> None:
        self.stopped = True


async def test_a_stop_while_the_consumer_joins_its_group_closes_the_consumer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Cut off in ``start``, the consumer was left open: a group member nobody polled,
    holding its partitions' requests, until its session ran out."""
    monkeypatch.setattr(stream, "AIOKafkaConsumer", JoiningConsumer)
    runtime = SimpleNamespace(
        name="deployment",
        deps=SimpleNamespace(settings=DeploymentSection()),
        settings=SimpleNamespace(kafka=KafkaSettings()),
    )
    JoiningConsumer.joining = asyncio.Event()
    consuming = asyncio.create_task(stream._consume(runtime))  # type: ignore[arg-type]
    await JoiningConsumer.joining.wait()
    (consumer,) = JoiningConsumer.made
    consuming.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consuming
    assert consumer.stopped
