"""Event codec: Driftline's CloudEvents Kafka binding vs the CloudEvents SDK, same records."""

from __future__ import annotations

import json
from collections.abc import Callable

from driftline_contracts.codec import decode, encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events.data import DataArrived
from driftline_contracts.values import DatasetRef


def _event() -> DataArrived:
    return DataArrived(
        dataset=DatasetRef(
            name="telco-churn",
            version=None,
            uri="s3://driftline/datasets/telco-churn/a.parquet",
            sha256="ab" * 32,
            format="parquet",
            rows=7043,
            size_bytes=977_501,
        )
    )


def cases() -> dict[str, dict[str, Callable[[], object]]]:
    """Benchmark name → {implementation name → zero-argument callable}."""
    from cloudevents.v1.http import CloudEvent
    from cloudevents.v1.kafka import KafkaMessage, from_binary, to_binary

    event = _event()
    envelope = new_envelope(event, source="pipeline/nightly", actor="pipeline:nightly")
    record = encode(event, envelope)
    headers = list(record.headers)
    sdk_message = KafkaMessage(dict(headers), record.key, record.value)
    attributes = {k[3:]: v.decode() for k, v in headers if k.startswith("ce_")}
    attributes["datacontenttype"] = "application/json"
    sdk_event = CloudEvent(attributes, event.model_dump(mode="json"))

    def sdk_decode() -> object:
        ce = from_binary(sdk_message)
        return DataArrived.model_validate(ce.get_data())

    return {
        "decode + validate one DataArrived record": {
            "driftline_contracts.decode": lambda: decode(headers, record.value),
            "cloudevents SDK from_binary + pydantic": sdk_decode,
            "json.loads only (no validation, floor)": lambda: json.loads(record.value),
        },
        "encode one DataArrived record": {
            "driftline_contracts.encode": lambda: encode(event, envelope),
            "cloudevents SDK to_binary": lambda: to_binary(sdk_event),
        },
    }
