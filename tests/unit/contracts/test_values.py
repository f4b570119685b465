"""Value objects: names, digests, windows and finiteness are enforced where data enters."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from driftline_contracts.values import ArtifactRef, DatasetRef, ModelRef, Reason, TimeWindow

SHA = "0123456789abcdef" * 4


def dataset(**changes):
    fields = {"name": "churn", "uri": "s3://lake/churn.csv", "sha256": SHA, "format": "csv"}
    return DatasetRef(**{**fields, **changes})


@pytest.mark.parametrize("sha", [SHA.upper(), SHA[:-1], SHA + "0", "g" * 64, ""])
def test_sha256_must_be_64_lowercase_hex(sha):
    with pytest.raises(ValidationError, match="sha256"):
        dataset(sha256=sha)


@pytest.mark.parametrize("name", ["Churn", "-churn", "", "a" * 129, "churn model", "ch/urn"])
def test_names_must_be_slugs(name):
    with pytest.raises(ValidationError):
        dataset(name=name)
    with pytest.raises(ValidationError):
        ModelRef(name=name, version=1)


@pytest.mark.parametrize("name", ["churn", "0", "churn-clf.v2_final", "a" * 128])
def test_slugs_are_accepted(name):
    assert dataset(name=name).name == name


def test_formats_versions_and_sizes_are_checked():
    with pytest.raises(ValidationError, match="format"):
        dataset(format="xlsx")
    with pytest.raises(ValidationError, match="version"):
        dataset(version=0)
    with pytest.raises(ValidationError, match="rows"):
        dataset(rows=-1)
    with pytest.raises(ValidationError, match="version"):
        ModelRef(name="m", version=0)


def test_uri_needs_a_scheme():
    with pytest.raises(ValidationError, match="uri"):
        dataset(uri="lake/churn.csv")


def test_values_are_frozen_and_closed():
    ref = dataset()
    with pytest.raises(ValidationError):
        ref.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="owner"):
        dataset(owner="bob")


def test_artifacts_need_a_media_type_and_size():
    with pytest.raises(ValidationError):
        ArtifactRef(uri="s3://a/b", sha256=SHA, media_type="json", size_bytes=1)
    with pytest.raises(ValidationError):
        ArtifactRef(uri="s3://a/b", sha256=SHA, media_type="application/json", size_bytes=-1)


def test_windows_must_be_ordered_and_timezone_aware():
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match="after its start"):
        TimeWindow(start=now, end=now)
    with pytest.raises(ValidationError):
        TimeWindow(start=now.replace(tzinfo=None), end=(now + timedelta(1)).replace(tzinfo=None))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_rows_refuse_non_finite_numbers(value):
    with pytest.raises(ValidationError):
        dataset(rows=value)


def test_reason_free_text_is_bounded():
    assert Reason(code="null_rate", message="x" * 2000).message
    with pytest.raises(ValidationError, match="message"):
        Reason(code="null_rate", message="x" * 2001)
    with pytest.raises(ValidationError, match="code"):
        Reason(code="Not A Code", message="m")
