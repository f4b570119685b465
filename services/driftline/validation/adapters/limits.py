"""The bounds a dataset load is held to, and the failure raised when data breaks them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from driftline.validation.settings import ValidationSection


class Unloadable(Exception):  # noqa: N818 - a verdict on data, not a program error
    """The object cannot become a frame; ``code`` is the rejection reason code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Size, row, column and time bounds of one load."""

    max_bytes: int
    max_uncompressed_bytes: int
    max_rows: int
    max_columns: int
    timeout_s: float

    @classmethod
    def from_section(cls, section: ValidationSection) -> Limits:
        """The limits configured in the service's settings section."""
        return cls(
            max_bytes=section.max_bytes,
            max_uncompressed_bytes=section.max_uncompressed_bytes,
            max_rows=section.max_rows,
            max_columns=section.max_columns,
            timeout_s=section.parse_timeout_s,
        )


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock that parsing must finish by."""

    at: float
    budget_s: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """A deadline ``seconds`` from now."""
        return cls(time.monotonic() + seconds, seconds)

    def check(self) -> None:
        """Raise ``Unloadable("parse_timeout")`` once the deadline has passed."""
        if time.monotonic() > self.at:
            raise Unloadable("parse_timeout", f"parsing took longer than {self.budget_s:g} s")
