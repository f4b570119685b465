"""Served rows against the input signature of the version that serves them.

A value of the wrong type (a string in a numeric column, a number where a boolean was
trained) is refused with a 422 naming the field. Values the model never saw in training are
served but flagged on their row: an unseen category, a case variant of a known one, a null
in a column that had none, a number in a string column (served as its text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from driftline.deployment.errors import FeatureError, FeatureProblem
from driftline_contracts.signature import ColumnSignature, InputSignature

Row = Mapping[str, Any]
Flag = dict[str, str]
NUMBERS = (int, float)
EXPECTED = {"number": "a number", "integer": "a number", "boolean": "true or false"}


@dataclass
class Checked:
    """Rows to predict on (a number in a string column as text) and each row's flags."""

    rows: list[Row]
    flags: list[list[Flag]]

    @property
    def flagged(self) -> bool:
        """Whether any row has a flag."""
        return any(self.flags)


def _flag(column: ColumnSignature, code: str, message: str) -> Flag:
    return {"feature": column.name, "code": code, "msg": message}


def _string_flag(column: ColumnSignature, value: str) -> Flag | None:
    known = column.categories
    if known is None or value in known:
        return None
    variant = next((k for k in known if k.casefold() == value.casefold()), None)
    if variant is not None:
        message = f"{value!r} for {column.name!r} is a case variant of {variant!r}, "
        return _flag(column, "case_variant", message + "never seen in training")
    shown = ", ".join(map(repr, known[:10])) + (", …" if len(known) > 10 else "")
    message = f"unseen category {value!r} for {column.name!r} (training saw {shown})"
    return _flag(column, "unseen_category", message)


def _value(
    index: int, column: ColumnSignature, value: Any, loc: str
) -> tuple[Any, Flag | None, FeatureProblem | None]:
    """(value to predict on, flag, 422 problem) for one value."""
    if value is None:
        flag = _flag(column, "null", f"null for {column.name!r}, which training never had empty")
        return value, (None if column.nullable else flag), None
    if column.dtype == "string":
        if isinstance(value, str):
            return value, _string_flag(column, value), None
        text = str(value).lower() if isinstance(value, bool) else str(value)
        message = f"{type(value).__name__} {value!r} for string feature {column.name!r}, read as "
        flag = _flag(column, "not_a_string", f"{message}{text!r}")
        return text, flag, None
    is_bool = isinstance(value, bool)
    if (column.dtype == "boolean") == is_bool and (is_bool or isinstance(value, NUMBERS)):
        return value, None, None
    problem: FeatureProblem = {
        "loc": ["body", loc, index, column.name],
        "msg": f"feature {column.name!r} (row {index}) must be {EXPECTED[column.dtype]}, "
        f"as in training: got {type(value).__name__} {str(value)[:64]!r}",
        "type": "wrong_type",
    }
    return value, None, problem


def _column_is_clean(column: ColumnSignature, values: Sequence[Any]) -> bool:
    """The common case in one pass: every value of the column as training had them."""
    types = set(map(type, values))
    if column.dtype in ("number", "integer"):
        return types <= {float, int}
    if column.dtype == "boolean":
        return types <= {bool}
    return types <= {str} and (column.categories is None or set(values) <= set(column.categories))


def _columns(rows: Sequence[Row], signature: InputSignature) -> list[tuple[Any, ...]]:
    """Each signature column's values over the rows, in C-level passes (``itemgetter`` per
    row, then a transpose) rather than a Python loop over every value."""
    names = [c.name for c in signature.columns]
    try:
        picked = list(map(itemgetter(*names), rows))
    except KeyError:  # rows not checked for names first (batch callers): empty where missing
        picked = [tuple(row.get(name) for name in names) for row in rows]
    if len(names) == 1:  # itemgetter of one name returns the value, not a tuple
        return [tuple(picked)]
    return list(zip(*picked, strict=True)) if picked else [() for _ in names]


def check_rows(
    instances: Sequence[Row],
    signature: InputSignature | None,
    positions: Sequence[int] | None = None,
    loc: str = "instances",
) -> Checked:
    """``instances`` checked against ``signature``; ``FeatureError`` for wrong types, naming
    each row by its ``positions`` in the request (default: as given)."""
    rows: list[Row] = list(instances)
    flags: list[list[Flag]] = [[] for _ in instances]
    if signature is None:
        return Checked(rows, flags)
    problems: list[FeatureProblem] = []
    columns = _columns(rows, signature)
    numeric = [i for i, c in enumerate(signature.columns) if c.dtype in ("number", "integer")]
    if set(map(type, chain.from_iterable(columns[i] for i in numeric))) <= {float, int}:
        numeric_clean = set(numeric)  # the usual request: every number a number, one pass
    else:
        numeric_clean = set()
    for index, (column, values) in enumerate(zip(signature.columns, columns, strict=True)):
        if index in numeric_clean or _column_is_clean(column, values):
            continue
        for i, value in enumerate(values):
            served, flag, problem = _value(positions[i] if positions else i, column, value, loc)
            if problem is not None:
                problems.append(problem)
            if flag is not None:
                flags[i].append(flag)
            if served is not value:
                rows[i] = {**rows[i], column.name: served}
    if problems:
        raise FeatureError(problems)
    return Checked(rows, flags)


@dataclass
class RowFlagCounter:
    """``driftline_served_row_flags_total{model,code}`` on the service's ``/metrics``."""

    _counter: Counter | None = field(default=None, init=False)

    def count(self, registry: CollectorRegistry, model: str, flags: list[list[Flag]]) -> None:
        """Add the flags of one request (registers the counter on first use)."""
        if self._counter is None:
            self._counter = Counter(
                "driftline_served_row_flags",
                "Served values training never saw (unseen category, case variant, null, "
                "number in a string column), by model and kind.",
                ["model", "code"],
                registry=registry,
            )
        for row in flags:
            for flag in row:
                self._counter.labels(model=model, code=flag["code"]).inc()
