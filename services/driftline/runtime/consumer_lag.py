"""``driftline_consumer_lag``: how far a subscription is behind its partitions' ends."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka import TopicPartition

from driftline.runtime.metrics import Metrics


def note_lag(metrics: Metrics, service: str, consumer: object, records: Iterable[Any]) -> None:
    """Set the lag of each partition in ``records`` from the consumer's high watermark.

    The watermark comes with every fetch response (no broker call here); a consumer that
    has not fetched a partition yet, or a test double without one, leaves the gauge alone.
    """
    highwater = getattr(consumer, "highwater", None)
    if highwater is None:
        return
    last: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        last[key] = max(last.get(key, -1), record.offset)
    for (topic, partition), offset in last.items():
        end = highwater(TopicPartition(topic, partition))
        if isinstance(end, int):
            behind = max(end - offset - 1, 0)
            metrics.consumer_lag.labels(service, topic, str(partition)).set(behind)
