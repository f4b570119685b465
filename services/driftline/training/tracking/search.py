"""The subset of MLflow's run search language tracking understands: AND-ed comparisons on
``metrics.``, ``params.``, ``tags.`` and ``attributes.``, and ordering by one of them."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from driftline.training.tracking.core import InvalidValueError
from driftline.training.tracking.models import TrackedRun

ENTITIES = {
    "metric": "metrics", "metrics": "metrics", "param": "params", "params": "params",
    "parameter": "params", "parameters": "params", "tag": "tags", "tags": "tags",
    "attribute": "attributes", "attributes": "attributes", "attr": "attributes",
    "run": "attributes",
}  # fmt: skip
ATTRIBUTES = {"run_id", "run_name", "status", "start_time", "end_time", "user_id"}
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, ">": operator.gt,
    ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}  # fmt: skip
NAME = r"(?:`[^`]+`|\"[^\"]+\"|[A-Za-z0-9_.\-:/ ]+?)"
CLAUSE = re.compile(
    rf"^\s*(?P<entity>[A-Za-z_]+)\.(?P<key>{NAME})\s*(?P<op>!=|>=|<=|=|>|<)\s*"
    r"(?P<value>'[^']*'|\"[^\"]*\"|-?[0-9.eE+\-]+)\s*$"
)
AND = re.compile(r"\s+and\s+", re.IGNORECASE)
MAX_FILTER = 2000


@dataclass(frozen=True)
class Clause:
    """One comparison: entity (metrics, params, tags, attributes), key, operator, value."""

    entity: str
    key: str
    op: str
    value: str | float


def _unquote(text: str) -> str:
    return text[1:-1] if text[:1] in "`\"'" and text[-1:] == text[:1] else text


def _clause(text: str) -> Clause:
    found = CLAUSE.fullmatch(text)
    entity = ENTITIES.get(found["entity"].lower()) if found else None
    if found is None or entity is None:
        raise InvalidValueError(
            f"unsupported search clause {text.strip()[:120]!r}: use metrics.K, params.K, tags.K "
            "or attributes.K with = != > >= < <=, joined by AND"
        )
    key, raw = _unquote(found["key"].strip()), found["value"]
    quoted = raw[:1] in "'\""
    if entity == "metrics" and quoted:
        raise InvalidValueError(f"metrics.{key} compares with a number, not {raw}")
    if entity == "attributes" and key not in ATTRIBUTES:
        raise InvalidValueError(
            f"unknown attribute {key!r}; known: {', '.join(sorted(ATTRIBUTES))}"
        )
    try:
        value: str | float = _unquote(raw) if quoted else float(raw)
    except ValueError as exc:
        raise InvalidValueError(f"not a number: {raw!r}") from exc
    return Clause(entity, key, found["op"], value)


def parse_filter(text: str | None) -> list[Clause]:
    """The clauses of a filter string (none for an empty one)."""
    if not text or not text.strip():
        return []
    if len(text) > MAX_FILTER:
        raise InvalidValueError(f"filter longer than {MAX_FILTER} characters")
    return [_clause(part) for part in AND.split(text.strip())]


def field(run: TrackedRun, entity: str, key: str) -> str | float | None:
    """The value a clause or an ordering looks at."""
    if entity == "metrics":
        summary = run.metrics.get(key)
        return summary.last if summary else None
    if entity in ("params", "tags"):
        return getattr(run, entity).get(key)
    names = {"run_name": "name", "user_id": "actor"}
    return getattr(run, names.get(key, key))


def _ordered_by(entity: str, key: str, run: TrackedRun) -> Any:
    """A present run's sort key: ``field``'s value, of one type (str or float) for all runs."""
    return field(run, entity, key)


def matches(run: TrackedRun, clauses: Sequence[Clause]) -> bool:
    """Whether the run satisfies every clause (a missing metric or param never does)."""
    for clause in clauses:
        found = field(run, clause.entity, clause.key)
        if found is None:
            return False
        if isinstance(clause.value, float) and not isinstance(found, float | int):
            try:
                found = float(found)
            except ValueError:
                return False
        elif isinstance(clause.value, str):
            found = str(found)
        if not OPS[clause.op](found, clause.value):
            return False
    return True


def ordered(runs: list[TrackedRun], order_by: Sequence[str]) -> list[TrackedRun]:
    """Runs sorted by the first ordering (``metrics.acc DESC``); newest first by default."""
    if not order_by:
        return runs
    if len(order_by) > 1:
        raise InvalidValueError("order by one column only")
    words = order_by[0].strip().rsplit(None, 1)
    descending = len(words) == 2 and words[1].upper() == "DESC"
    column = words[0] if len(words) == 2 and words[1].upper() in ("ASC", "DESC") else order_by[0]
    entity, _, key = column.strip().partition(".")
    entity = ENTITIES.get(entity.lower(), "")
    if not entity or not key or (entity == "attributes" and _unquote(key) not in ATTRIBUTES):
        raise InvalidValueError(f"unsupported ordering {order_by[0][:120]!r}")
    key = _unquote(key)
    present = [r for r in runs if field(r, entity, key) is not None]
    absent = [r for r in runs if field(r, entity, key) is None]
    present.sort(key=partial(_ordered_by, entity, key), reverse=descending)
    return present + absent
