"""Map minio/urllib3 failures onto the storage errors (transient vs. not)."""

from __future__ import annotations

import http.client
import re

from minio.error import InvalidResponseError, S3Error, ServerError
from urllib3 import exceptions as u3

from driftline.runtime.storage.errors import ObjectNotFound, StorageError, StoreUnavailable

# Network-level failures: the request may never have reached a healthy server.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    http.client.HTTPException,
    u3.MaxRetryError,
    u3.ProtocolError,
    u3.TimeoutError,
    u3.IncompleteRead,
    u3.InvalidChunkLength,
    u3.EmptyPoolError,
    u3.ClosedPoolError,
)
NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchBucket", "NotFound"})
TRANSIENT_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout",
     "XMinioServerNotInitialized", "OperationAborted"}
)  # fmt: skip
_XML_CODE = re.compile(r"<Code>\s*([A-Za-z0-9.]+)\s*</Code>")


def classify(exc: BaseException, uri: str) -> StorageError | None:
    """The storage error ``exc`` stands for, or None when it is not a store failure (a bug)."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, NETWORK_ERRORS):
        return StoreUnavailable(f"{uri}: {type(exc).__name__}: {exc}")
    if isinstance(exc, S3Error | InvalidResponseError | ServerError):
        return from_response(uri, response_code(exc), _status(exc))
    if isinstance(exc, OSError):
        return StorageError(f"{uri}: {exc}")
    return None


def from_response(uri: str, code: str | None, status: int | None) -> StorageError:
    """Error for an S3 error response with ``code`` and HTTP ``status``."""
    if code in NOT_FOUND_CODES or (code is None and status == 404):
        return ObjectNotFound(uri)
    if code in TRANSIENT_CODES or (status is not None and (status >= 500 or status in (408, 429))):
        return StoreUnavailable(f"{uri}: S3 answered {code or 'error'} (HTTP {status})")
    return StorageError(f"{uri}: S3 answered {code or 'error'} (HTTP {status})")


def response_code(exc: BaseException) -> str | None:
    """The S3 error code carried by ``exc`` (S3Error or rclone's text/xml answer), if any."""
    if isinstance(exc, S3Error):
        return exc.code
    if isinstance(exc, InvalidResponseError):
        # rclone answers errors as text/xml, which minio reports as InvalidResponseError.
        match = _XML_CODE.search(getattr(exc, "_body", None) or "")
        return match.group(1) if match else None
    return None


def _status(exc: S3Error | InvalidResponseError | ServerError) -> int | None:
    """HTTP status of a minio error response."""
    if isinstance(exc, S3Error):
        return exc.response.status if exc.response is not None else None
    if isinstance(exc, ServerError):
        return exc.status_code
    return getattr(exc, "_code", None)
