"""Small builders shared by the validation unit tests."""

from __future__ import annotations

import hashlib

from driftline.stats.expectations import Expectations
from driftline.validation.adapters.limits import Limits
from driftline.validation.records import AcceptedVersion, Rejection
from driftline.validation.specs import SpecRecord
from driftline_contracts.values import DatasetRef


def limits(**overrides: float) -> Limits:
    """Generous limits unless a test tightens one."""
    values = {
        "max_bytes": 10**9,
        "max_uncompressed_bytes": 10**9,
        "max_rows": 1_000_000,
        "max_columns": 100,
        "timeout_s": 60.0,
    }
    return Limits(**{**values, **overrides})  # type: ignore[arg-type]


def spec(
    model: str = "churn",
    *,
    dataset: str = "customers",
    target: str = "label",
    expectations: dict | None = None,
    error: str | None = None,
    spec_hash: str = "a" * 64,
) -> SpecRecord:
    """A stored spec record."""
    return SpecRecord(
        model=model,
        dataset=dataset,
        target=target,
        task="classification",
        spec_hash=spec_hash,
        expectations=Expectations.model_validate(expectations) if expectations else None,
        error=error,
    )


def dataset_ref(uri: str, data: bytes, *, name: str = "customers", fmt: str = "csv") -> DatasetRef:
    """A DataArrived dataset reference for ``data`` stored at ``uri``."""
    return DatasetRef(
        name=name,
        uri=uri,
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,  # type: ignore[arg-type]
        size_bytes=len(data),
    )


class MemoryRepository:
    """In-memory ``ValidationRepository`` for workflow tests."""

    def __init__(self, specs: list[SpecRecord] | None = None) -> None:
        self.specs = list(specs or [])
        self.inferred_by_dataset: dict[str, Expectations] = {}
        self.versions: list[AcceptedVersion] = []
        self.rejections: list[Rejection] = []

    async def specs_for(self, dataset: str) -> list[SpecRecord]:
        return [s for s in self.specs if s.dataset == dataset]

    async def inferred(self, dataset: str) -> Expectations | None:
        return self.inferred_by_dataset.get(dataset)

    async def save_inferred(self, dataset: str, expectations: Expectations, version: int) -> None:
        self.inferred_by_dataset[dataset] = expectations

    async def accepted(self, dataset: str, sha256: str) -> AcceptedVersion | None:
        return next((v for v in self.versions if v.dataset == dataset and v.sha256 == sha256), None)

    async def latest_accepted(self, dataset: str) -> AcceptedVersion | None:
        mine = [v for v in self.versions if v.dataset == dataset]
        return max(mine, key=lambda v: v.version) if mine else None

    async def add_accepted(self, version: AcceptedVersion) -> None:
        self.versions.append(version)

    async def rejected(self, dataset: str, sha256: str, fingerprint: str) -> bool:
        return any(
            (r.dataset, r.sha256, r.fingerprint) == (dataset, sha256, fingerprint)
            for r in self.rejections
        )

    async def add_rejection(self, rejection: Rejection) -> None:
        self.rejections.append(rejection)
