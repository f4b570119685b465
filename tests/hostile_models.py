"""Models nobody may load: a pickle payload with a side effect and a type outside the trusted
ones (shared by the loader, submission and submit-journey tests)."""

from __future__ import annotations


class Payload:
    """Unpickling this creates the marker file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        return (open, (self.path, "w"))


class Custom:
    """A type outside scikit-learn, NumPy and SciPy."""

    def predict(self, rows: object) -> list[int]:
        """Always zero."""
        return [0]
