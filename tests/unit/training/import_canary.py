"""A module a hostile spec names: importing it is the attack, so tests assert it never is."""

from __future__ import annotations


class Boom:
    """An "estimator" whose construction fails loudly."""

    def __init__(self, **params: object) -> None:
        raise AssertionError("a refused estimator was built")

    def get_params(self, deep: bool = True) -> dict[str, object]:
        """Looks like an estimator to a duck-typing check."""
        return {}


def boom(*args: object, **kwargs: object) -> None:
    """A "trainer function" that must never be called."""
    raise AssertionError("a refused trainer function was called")
