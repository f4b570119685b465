"""S3 failure classification: outages are transient, missing keys are not found, rest fails;
keys with path tricks are refused before any request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import urllib3
from minio.error import InvalidResponseError, S3Error, ServerError
from urllib3 import exceptions as u3

from driftline.runtime.errors import is_transient
from driftline.runtime.storage import (
    ObjectNotFound,
    StorageError,
    StoreUnavailable,
    UriNotAllowed,
)
from driftline.runtime.storage.s3 import S3ArtifactStore
from driftline.runtime.storage.s3_errors import classify
from driftline.runtime.storage.uris import UriPolicy

URI = "s3://driftline/x"
RCLONE_404 = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>NoSuchKey</Code>\n'
    "  <Message>The specified key does not exist.</Message>\n</Error>"
)


def s3_error(code: str, status: int) -> S3Error:
    response = urllib3.HTTPResponse(status=status)
    return S3Error(response, code, "msg", "/driftline/x", "req", "host")


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        u3.MaxRetryError(None, "/x", u3.NewConnectionError(None, "refused")),  # type: ignore[arg-type]
        u3.ProtocolError("Connection aborted."),
        u3.ReadTimeoutError(None, "/x", "read timed out"),  # type: ignore[arg-type]
        s3_error("SlowDown", 503),
        s3_error("InternalError", 500),
        ServerError("server failed with HTTP status code 502", 502),
        InvalidResponseError(503, "text/html", "<html>bad gateway</html>"),
    ],
)
def test_outages_are_store_unavailable(exc: BaseException) -> None:
    error = classify(exc, URI)
    assert isinstance(error, StoreUnavailable)
    assert is_transient(error)


@pytest.mark.parametrize(
    "exc",
    [
        s3_error("NoSuchKey", 404),
        s3_error("NoSuchBucket", 404),
        InvalidResponseError(404, "text/xml; charset=utf-8", RCLONE_404),
    ],
)
def test_missing_objects_are_object_not_found(exc: BaseException) -> None:
    assert isinstance(classify(exc, URI), ObjectNotFound)


@pytest.mark.parametrize(
    "exc",
    [
        s3_error("AccessDenied", 403),
        InvalidResponseError(403, "text/xml", "<Error><Code>InvalidAccessKeyId</Code></Error>"),
        PermissionError("/data/x"),
    ],
)
def test_other_failures_are_permanent_storage_errors(exc: BaseException) -> None:
    error = classify(exc, URI)
    assert type(error) is StorageError
    assert not is_transient(error)


def test_bugs_are_not_classified() -> None:
    assert classify(ValueError("invalid bucket name"), URI) is None


class _RcloneLikeClient:
    """get_object answers a missing key the way rclone does: text/xml InvalidResponseError."""

    def get_object(self, bucket: str, key: str) -> None:
        raise InvalidResponseError(404, "text/xml; charset=utf-8", RCLONE_404)

    def stat_object(self, bucket: str, key: str) -> None:
        raise s3_error("NoSuchKey", 404)


async def test_rclone_missing_key_quirk_is_object_not_found() -> None:
    store = S3ArtifactStore(_RcloneLikeClient(), UriPolicy("s3", "driftline"))  # type: ignore[arg-type]
    uri = store.uri_for("missing.bin")
    with pytest.raises(ObjectNotFound):
        await store.get_bytes(uri)
    assert not await store.exists(uri)


class _NoCallsClient:
    """A client that fails the test if any request is made."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"no request expected, got {name}")


@pytest.mark.parametrize("key", ["../escape.bin", "a/../../escape.bin", "/etc/passwd", "a//b"])
async def test_deleting_or_listing_a_key_with_path_tricks_is_refused_before_any_request(
    key: str,
) -> None:
    store = S3ArtifactStore(_NoCallsClient(), UriPolicy("s3", "driftline", "tenant/"))  # type: ignore[arg-type]
    with pytest.raises(UriNotAllowed):
        await store.delete_keys(["fine.bin", key])
    with pytest.raises(UriNotAllowed):
        await store.keys_older_than(key, datetime.now(UTC))
