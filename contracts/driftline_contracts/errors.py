"""Typed contract errors; ``str(error)`` is a readable reason fit for a dead-letter record."""

from __future__ import annotations


class ContractError(ValueError):
    """A record does not honour the Driftline event contract."""


class MissingHeader(ContractError):  # noqa: N818 - names are the public contract
    """A required CloudEvents header is absent."""

    def __init__(self, header: str) -> None:
        super().__init__(f"missing required header {header!r}")
        self.header = header


class MalformedHeader(ContractError):  # noqa: N818 - names are the public contract
    """A header is present but its value is not valid (encoding, format, version)."""


class UnknownEventType(ContractError):  # noqa: N818 - names are the public contract
    """``ce_type`` names no event in the catalog."""

    def __init__(self, ce_type: str) -> None:
        super().__init__(f"unknown event type {ce_type[:200]!r}")
        self.ce_type = ce_type


class MalformedPayload(ContractError):  # noqa: N818 - names are the public contract
    """The value is not a valid event of its type: bad JSON, wrong types, NaN, extra fields."""


class SubjectMismatch(ContractError):  # noqa: N818 - names are the public contract
    """``ce_subject`` differs from the aggregate named in the payload."""

    def __init__(self, header_subject: str, payload_subject: str) -> None:
        super().__init__(
            f"ce_subject {header_subject!r} does not match the payload's aggregate "
            f"{payload_subject!r}"
        )
        self.header_subject = header_subject
        self.payload_subject = payload_subject
