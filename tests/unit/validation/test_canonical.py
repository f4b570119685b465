"""The canonical copy: validation writes the frame it accepted, training reads that frame."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from driftline.runtime.storage import IntegrityError
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.training.adapters.datasets import fetch_dataset
from driftline.training.runner import read_frame
from driftline.validation.adapters.canonical import write_parquet
from driftline.validation.settings import ValidationSection
from driftline.validation.workflow import ValidationDeps, validate_arrival
from driftline_contracts.events.data import CanonicalCopy, DataValidated
from tests.unit.validation.helpers import MemoryRepository, dataset_ref, spec

SEMICOLONS = "\ufeffage;city;price\n" + "".join(
    f"{20 + i % 50};{'Lyon' if i % 3 else 'Paris'};{100 + i * 0.5:.2f}\n" for i in range(200)
)


@pytest.fixture
def deps(tmp_path: Path) -> ValidationDeps:
    store = LocalArtifactStore(tmp_path / "objects")
    return ValidationDeps(store=store, settings=ValidationSection(), workdir=tmp_path)


async def _accept(deps: ValidationDeps, data: bytes, key: str, fmt: str = "csv") -> DataValidated:
    stored = await deps.store.put_bytes(f"datasets/{key}", data)
    ref = dataset_ref(stored.uri, data, name="prices", fmt=fmt)
    repo = MemoryRepository([spec("m", dataset="prices", target="city")])
    outcome = await validate_arrival(ref, repo, deps, event_id="e1")
    assert isinstance(outcome, DataValidated), outcome
    return outcome


async def test_a_semicolon_csv_trains_on_the_columns_it_was_validated_with(
    deps: ValidationDeps, tmp_path: Path
) -> None:
    accepted = await _accept(deps, SEMICOLONS.encode(), "prices.csv")
    assert accepted.canonical is not None
    assert accepted.canonical.parsed_as.model_dump() == {
        "format": "csv", "delimiter": ";", "encoding": "utf-8-sig", "compression": None,
    }  # fmt: skip
    # what training did before: parse the upload itself, as a comma CSV -> one column
    raw = tmp_path / "raw.csv"
    raw.write_text(SEMICOLONS, encoding="utf-8")
    assert "city" not in read_frame(raw, "csv", 10_000).columns
    folder = tmp_path / "job"
    folder.mkdir()
    path = await fetch_dataset(deps.store, accepted.dataset, folder)
    frame = read_frame(path, accepted.dataset.format, 10_000)
    assert list(frame.columns) == ["age", "city", "price"]
    assert len(frame) == 200
    assert frame["price"].dtype.kind == "f"


async def test_the_copy_is_parquet_with_its_sha256_and_a_manifest(deps: ValidationDeps) -> None:
    accepted = await _accept(deps, gzip.compress(SEMICOLONS.encode()), "prices.csv.gz")
    copy = accepted.canonical
    assert copy is not None
    assert copy.parsed_as.compression == "gzip"
    assert copy.data.media_type == "application/vnd.apache.parquet"
    assert copy.data.uri.endswith(f"canonical/prices/{accepted.dataset.sha256}.parquet")
    data = await deps.store.get_bytes(copy.data.uri, sha256=copy.data.sha256)
    assert data[:4] == b"PAR1"
    key = CanonicalCopy.key("prices", accepted.dataset.sha256, "json")
    manifest = await deps.store.get_bytes(deps.store.uri_for(key))
    assert CanonicalCopy.model_validate_json(manifest) == copy


async def test_a_parquet_upload_is_handed_over_as_its_canonical_parquet(
    deps: ValidationDeps, tmp_path: Path
) -> None:
    source = tmp_path / "up.parquet"
    pd.DataFrame({"x": [1.5, 2.5] * 50, "city": ["a", "b"] * 50}).to_parquet(source)
    accepted = await _accept(deps, source.read_bytes(), "prices.parquet", fmt="parquet")
    assert accepted.canonical is not None
    assert accepted.canonical.parsed_as.delimiter is None
    path = await fetch_dataset(deps.store, accepted.dataset, tmp_path)
    assert path.name == "canonical.parquet"
    assert len(read_frame(path, "parquet", 1000)) == 100


async def test_versions_without_a_copy_train_on_the_upload(
    deps: ValidationDeps, tmp_path: Path
) -> None:
    data = b"a,price\n1,2\n3,4\n"
    stored = await deps.store.put_bytes("datasets/old.csv", data)
    ref = dataset_ref(stored.uri, data).model_copy(update={"version": 1})
    path = await fetch_dataset(deps.store, ref, tmp_path)
    assert path.read_bytes() == data


async def test_a_manifest_of_other_bytes_is_ignored(deps: ValidationDeps, tmp_path: Path) -> None:
    accepted = await _accept(deps, SEMICOLONS.encode(), "prices.csv")
    other = b"age,city,price\n1,x,2\n"
    stored = await deps.store.put_bytes("datasets/other.csv", other)
    ref = dataset_ref(stored.uri, other, name="prices")
    assert accepted.canonical is not None
    key = CanonicalCopy.key("prices", ref.sha256, "json")  # a manifest copied to the wrong key
    await deps.store.put_bytes(key, accepted.canonical.model_dump_json().encode())
    path = await fetch_dataset(deps.store, ref, tmp_path)
    assert path.read_bytes() == other


async def test_a_tampered_copy_fails_its_sha256(deps: ValidationDeps, tmp_path: Path) -> None:
    accepted = await _accept(deps, SEMICOLONS.encode(), "prices.csv")
    assert accepted.canonical is not None
    key = CanonicalCopy.key("prices", accepted.dataset.sha256, "parquet")
    await deps.store.put_bytes(key, b"PAR1 not the validated frame")
    with pytest.raises(IntegrityError):
        await fetch_dataset(deps.store, accepted.dataset, tmp_path)


def test_mixed_type_text_columns_are_written_as_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"mixed": [1, "a", None, 2.5], "n": [1, 2, 3, 4]})
    write_parquet(frame, tmp_path / "x.parquet")
    back = pd.read_parquet(tmp_path / "x.parquet")
    assert back["mixed"].tolist()[:2] == ["1", "a"]
    assert back["mixed"].isna().tolist() == [False, False, True, False]
