"""Result rows as typed tuples: SQLAlchemy 2.1 deprecates ``Result.tuples()`` (a Row unpacks
like a tuple), but mypy cannot yet see a Row's element types when it is unpacked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeVarTuple, cast

if TYPE_CHECKING:
    from sqlalchemy import Result

Ts = TypeVarTuple("Ts")


def typed_rows(result: Result[*Ts]) -> Iterator[tuple[*Ts]]:
    """Each row of ``result`` with the column types of its query."""
    for row in result:
        yield cast("tuple[*Ts]", row)
