"""Object URIs: canonical forms and confinement; nothing that escapes is ever accepted."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftline.runtime.storage.errors import UriNotAllowed
from driftline.runtime.storage.uris import ObjectUri, UriPolicy, canonical, parse

S3 = UriPolicy("s3", "driftline", prefix="team-a", allowed_buckets=frozenset({"landing"}))
LOCAL = UriPolicy("local", "", prefix="", root="/srv/objects")


def test_canonical_forms_round_trip() -> None:
    assert parse("s3://driftline/a/b.parquet") == ObjectUri("s3", "driftline", "a/b.parquet")
    assert canonical("S3://driftline/a/b.parquet") == "s3://driftline/a/b.parquet"
    assert canonical("file:///srv/objects/x.bin") == "file:///srv/objects/x.bin"
    assert parse("file:///srv/objects/x.bin").path == "/srv/objects/x.bin"


def test_keys_live_under_the_prefix() -> None:
    assert S3.uri_for("models/m/1.skops") == "s3://driftline/team-a/models/m/1.skops"
    assert LOCAL.uri_for("d/v1.csv") == "file:///srv/objects/d/v1.csv"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("s3://driftline/team-a/../secrets", "dot segment"),
        ("s3://driftline/team-a//x", "empty path segment"),
        ("s3://driftline/team-a\\..\\x", "backslash"),
        ("s3://driftline/team-a/x\x00.csv", "control character"),
        ("s3://driftline//etc/passwd", "absolute key"),
        ("s3://other-bucket/team-a/x", "bucket 'other-bucket' is not allowed"),
        ("file:///srv/objects/x", "file:// URIs are not allowed with the s3 backend"),
        ("http://driftline/x", "scheme"),
        ("s3://Bad_Bucket/x", "invalid bucket name"),
        ("s3://driftline/team-a/", "empty path segment"),
        ("s3://driftline/team-a/x?versionId=1", "query or fragment"),
    ],
)
def test_s3_refuses_escapes_with_a_reason(uri: str, reason: str) -> None:
    with pytest.raises(UriNotAllowed) as caught:
        S3.check_read(uri)
    assert reason in caught.value.reason


def test_writes_stay_in_the_bucket_and_prefix_reads_may_use_allowed_buckets() -> None:
    assert S3.check_read("s3://landing/daily/2024-01-01.csv").bucket == "landing"
    assert S3.check_read("s3://driftline/team-b/x").key == "team-b/x"
    with pytest.raises(UriNotAllowed, match="read only"):
        S3.check_write("s3://landing/daily/x.csv")
    with pytest.raises(UriNotAllowed, match="outside the prefix"):
        S3.check_write("s3://driftline/team-b/x")
    assert S3.check_write("s3://driftline/team-a/x").key == "team-a/x"


@pytest.mark.parametrize(
    "uri",
    [
        "file:///srv/objects/../etc/passwd",
        "file:///srv/objectsX/a",
        "file:///etc/passwd",
        "file://host/srv/objects/a",
        "s3://driftline/a",
    ],
)
def test_local_refuses_paths_outside_root(uri: str) -> None:
    with pytest.raises(UriNotAllowed):
        LOCAL.check_read(uri)


@pytest.mark.parametrize("key", ["", "/abs", "../x", "a/./b", "a//b", "a\\b", "a/", "x\x00"])
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(UriNotAllowed):
        S3.uri_for(key)


def test_bad_prefix_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="prefix"):
        UriPolicy("s3", "driftline", prefix="a/../b")


# Hypothesis: build keys and URIs from the characters that matter for traversal.
_SAFE = st.sampled_from(["a", "b.csv", "team-a", "...", "..a", "%2e%2e", "x y", "C:"])
_NASTY = st.one_of(st.sampled_from(["", ".", ".."]), st.text(alphabet="ab./\\\x00%?#:", max_size=6))
# Mostly safe segments, so that a good share of keys is accepted and the properties bite.
_SEGMENT = st.one_of(_SAFE, _SAFE, _SAFE, _SAFE, _SAFE, _NASTY)
_KEY = st.lists(_SEGMENT, min_size=1, max_size=5).map("/".join)
_BUCKET = st.sampled_from(["driftline", "landing", "other", "Driftline", "a", ""])
_URI = st.one_of(
    st.builds(lambda b, k: f"s3://{b}/{k}", _BUCKET, _KEY),
    st.builds(lambda k: f"s3://driftline/team-a/{k}", _KEY),
    st.builds(lambda k: f"file:///{k}", _KEY),
    st.builds(lambda k: f"file:///srv/objects/{k}", _KEY),
    st.text(max_size=30),
)


def _normal(key: str) -> bool:
    """No traversal left to resolve: normalizing the key changes nothing."""
    return posixpath.normpath("/" + key) == "/" + key


@given(_KEY)
def test_accepted_keys_never_escape_the_prefix(key: str) -> None:
    try:
        uri = S3.uri_for(key)
    except UriNotAllowed:
        return
    parsed = S3.check_write(uri)
    assert parsed.key == "team-a/" + key
    assert _normal(parsed.key)


@given(_URI)
def test_accepted_s3_uris_stay_in_allowed_buckets(uri: str) -> None:
    try:
        parsed = S3.check_read(uri)
    except UriNotAllowed:
        return
    assert parsed.bucket in {"driftline", "landing"}
    assert _normal(parsed.key)
    assert canonical(canonical(uri)) == canonical(uri) == str(parsed)


@given(_URI)
def test_accepted_s3_writes_stay_in_bucket_and_prefix(uri: str) -> None:
    try:
        parsed = S3.check_write(uri)
    except UriNotAllowed:
        return
    assert parsed.bucket == "driftline"
    assert parsed.key.startswith("team-a/")
    assert _normal(parsed.key)


@given(_URI)
def test_accepted_file_uris_stay_under_root(uri: str) -> None:
    try:
        parsed = LOCAL.check_read(uri)
    except UriNotAllowed:
        return
    assert posixpath.normpath(parsed.path).startswith("/srv/objects/")
    assert _normal(parsed.key)
