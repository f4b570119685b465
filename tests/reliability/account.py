"""The account of a loop run: what became of each announced dataset, read from the topics
and the services' own answers (every dataset catalogued, validated, trained and registered
exactly once; nothing on a dead-letter topic)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from driftline_contracts import topics
from driftline_contracts.events.data import DataValidated
from driftline_contracts.events.training import ModelTrained
from tests.integration.kafka_helpers import end_offsets, header, read_all, until_consumed
from tests.reliability.loop import Fleet, get

CATALOGUED_WITHIN_S = 120


def _events(records: list[Any], ce_type: str, dataset: str) -> list[tuple[str, Any]]:
    found = []
    for record in records:
        if header(record, "ce_type") != ce_type:
            continue
        data = json.loads(record.value)
        if data.get("dataset", {}).get("name") == dataset:
            found.append((header(record, "ce_id"), data))
    return found


def _per_sha(events: list[tuple[str, Any]]) -> Counter[str]:
    """How many distinct events (by id) name each dataset sha256."""
    return Counter({event_id: d["dataset"]["sha256"] for event_id, d in events}.values())


@dataclass(frozen=True)
class LoopAccount:
    """What the loop made of the announced datasets, read from the topics and the services."""

    digests: list[str]
    validated: list[tuple[str, Any]]
    trained: list[tuple[str, Any]]
    versions: list[dict[str, Any]]
    catalog: list[dict[str, Any]]

    @property
    def validated_per_sha(self) -> Counter[str]:
        """Distinct DataValidated events per dataset sha256."""
        return _per_sha(self.validated)

    @property
    def trained_per_sha(self) -> Counter[str]:
        """Distinct ModelTrained events per dataset sha256."""
        return _per_sha(self.trained)

    @property
    def versions_per_sha(self) -> Counter[str]:
        return Counter(v["dataset"]["sha256"] for v in self.versions)

    @property
    def lost(self) -> int:
        """Announced datasets that never became a model version."""
        return len(set(self.digests) - set(self.versions_per_sha))

    @property
    def duplicates_applied(self) -> int:
        """Effects beyond the first: a dataset validated, trained or registered twice."""
        counts = (self.validated_per_sha, self.trained_per_sha, self.versions_per_sha)
        return sum(n - 1 for c in counts for n in c.values() if n > 1)

    @property
    def redeliveries(self) -> int:
        """Events that reached their topic more than once under the same id."""
        distinct = len({i for i, _ in self.validated}) + len({i for i, _ in self.trained})
        return len(self.validated) + len(self.trained) - distinct

    def figures(self) -> dict[str, Any]:
        """The columns every loop scenario reports: events in, effects, lost, duplicates
        applied, redeliveries."""
        return {
            "events in": len(self.digests),
            "effects": f"{len(self.versions)} versions",
            "lost": self.lost,
            "duplicates applied": self.duplicates_applied,
            "redeliveries": self.redeliveries,
        }

    def problems(self) -> list[str]:
        """Every way the account differs from "each dataset exactly once"; empty when right."""
        count = len(self.digests)
        found = []
        if self.lost:
            found.append(f"{self.lost} datasets never registered")
        for effect, per_sha in (
            ("validated", self.validated_per_sha),
            ("trained", self.trained_per_sha),
            ("registered", self.versions_per_sha),
        ):
            if sorted(per_sha) != sorted(self.digests) or set(per_sha.values()) != {1}:
                found.append(f"{effect} per dataset: {sorted(per_sha.values())}")
        if sorted(v["version"] for v in self.versions) != list(range(1, count + 1)):
            found.append(f"versions: {sorted(v['version'] for v in self.versions)}")
        if len({v["run_id"] for v in self.versions}) != count:
            found.append("a run registered twice")
        if sorted(v["sha256"] for v in self.catalog) != sorted(self.digests):
            found.append(f"catalog holds {len(self.catalog)} versions for {count} datasets")
        return found


async def account(fleet: Fleet, dataset: str, digests: list[str], model: str) -> LoopAccount:
    """Read the loop's outcome for ``dataset``: events on the topics, versions, catalog."""
    bootstrap = fleet.info.kafka_bootstrap
    # Ingest catalogues arrivals on its own consumer group, which may still be in its retry
    # back-off (up to ~10 s after an outage) when the registry already has every version.
    arrivals = await end_offsets(bootstrap, topics.DATA_ARRIVED)
    async with asyncio.timeout(CATALOGUED_WITHIN_S):
        await until_consumed(bootstrap, ["driftline.ingest.on_data_arrived"], arrivals)
    validated = await read_all(bootstrap, topics.DATA_VALIDATED, lambda _: True)
    trained = await read_all(bootstrap, topics.MODEL_TRAINED, lambda _: True)
    return LoopAccount(
        digests=digests,
        validated=_events(validated, DataValidated.ce_type, dataset),
        trained=_events(trained, ModelTrained.ce_type, dataset),
        versions=get(f"{fleet.url('registry')}/v1/models/{model}/versions"),
        catalog=get(f"{fleet.url('ingest')}/v1/datasets/{dataset}/versions"),
    )


async def dead_letters(bootstrap: str) -> int:
    """Records on every dead-letter topic of the stack."""
    dlq_topics = [topics.dlq(t) for t in topics.EVENT_TOPICS]
    found = await asyncio.gather(*(read_all(bootstrap, t, lambda _: True) for t in dlq_topics))
    return sum(len(records) for records in found)
