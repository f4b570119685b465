"""How a write's rows travel to PostgreSQL: one JSON document, one statement.

Shared by the log writer's group commit and the direct write of ``PostgresPredictionLog``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import orjson
from pydantic_core import to_json

from driftline.deployment.serving.served_rows import ServedRows
from driftline.deployment.tables import open_prediction_batches, predictions

_APPENDED = {
    "request_id": "text", "model": "text", "version": "integer", "variant": "text",
    "canary_id": "text", "features": "jsonb", "prediction": "jsonb", "score": "float8",
    "latency_ms": "float8", "error": "text", "created_at": "timestamptz", "batch_id": "text",
    "flags": "jsonb",
}  # fmt: skip
_SELECTED = {"flags": "NULLIF(flags, CAST('null' AS jsonb))"}
"""A row without flags stores SQL NULL, not JSON null."""


def append_sql(*, named: bool) -> str:
    """One statement for every row of a write: the rows and the batches they are logged under.

    The rows travel as one JSON document of one array per column (``append_document``):
    orjson writes it at a few dozen ns per value, where asyncpg's array parameters cost about
    3 µs per row; ``ROWS FROM (jsonb_array_elements(…), …)`` zips the arrays back into rows,
    from the document parsed once (``MATERIALIZED``). Its ``batches`` are registered in
    ``open_prediction_batches`` in the same statement. A request id already logged (a
    streaming request served twice) keeps its first row instead of failing the other
    requests of the write. ``named``: a ``:document`` parameter (SQLAlchemy ``text``), else
    ``$1`` (asyncpg); either way UTF-8 JSON bytes.
    """
    param = ":document" if named else "$1"
    sources = ", ".join(
        f"jsonb_array_elements(d.c->'{name}')"
        if kind == "jsonb"
        else f"jsonb_array_elements_text(d.c->'{name}')"
        for name, kind in _APPENDED.items()
    )
    columns = ", ".join(_APPENDED)
    selected = ", ".join(
        _SELECTED.get(name, name if kind in ("text", "jsonb") else f"CAST({name} AS {kind})")
        for name, kind in _APPENDED.items()
    )
    return (
        f"WITH d AS MATERIALIZED (SELECT CAST(convert_from({param}, 'UTF8') AS jsonb) AS c), "
        f"opened AS (INSERT INTO {open_prediction_batches.name} "
        "(batch_id, model, version, opened_at) "
        "SELECT b->>0, b->>1, CAST(b->>2 AS integer), CAST(b->>3 AS timestamptz) "
        "FROM d, jsonb_array_elements(d.c->'batches') AS b ON CONFLICT (batch_id) DO NOTHING) "
        f"INSERT INTO {predictions.name} ({columns}) SELECT {selected} "
        f"FROM d, ROWS FROM ({sources}) AS appended({columns}) "
        "ON CONFLICT (request_id) DO NOTHING"
    )


def json_bytes(value: Any) -> bytes:
    """``value`` as JSON (orjson; pydantic for what orjson cannot write, such as integers
    beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return to_json(value)


def features_json(served: ServedRows) -> list[bytes]:
    """Each row's features as JSON: written once, used by the INSERT and the batch event
    (orjson over the rows in one C loop; row by row when a value needs pydantic)."""
    try:
        return list(map(orjson.dumps, served.features))
    except TypeError:
        return [json_bytes(row) for row in served.features]


def _flat(parts: Sequence[Sequence[Any]]) -> list[Any]:
    """The requests' columns one after the other (a C loop, not one step per row)."""
    return list(parts[0]) if len(parts) == 1 else list(chain.from_iterable(parts))


def append_document(
    served: Sequence[ServedRows],
    features: Sequence[list[bytes]],
    batch_ids: Sequence[Sequence[str | None]] | None = None,
    batches: Sequence[list[Any]] = (),
) -> bytes:
    """Requests' rows as ``append_sql``'s document: ``features`` from ``features_json``,
    ``batch_ids`` one per row (None: sent later by the recovery pass), ``batches`` the
    registrations (``[batch_id, model, version, opened_at]``) of the batch ids used."""
    ids = batch_ids if batch_ids is not None else [[None] * len(s) for s in served]
    feature_array = b"[" + b",".join(_flat(features)) + b"]"
    return orjson.dumps(
        {
            "request_id": _flat([s.request_ids for s in served]),
            "model": _flat([[s.model] * len(s) for s in served]),
            "version": _flat([s.versions for s in served]),
            "variant": _flat([s.variants for s in served]),
            "canary_id": _flat([[s.canary_id] * len(s) for s in served]),
            "features": orjson.Fragment(feature_array),
            "prediction": orjson.Fragment(
                json_bytes(_flat([s.predicted.predictions for s in served]))
            ),
            "score": _flat([s.predicted.scores for s in served]),
            "latency_ms": _flat([s.latencies for s in served]),
            "error": _flat([s.predicted.errors for s in served]),
            "created_at": _flat([[s.created_at] * len(s) for s in served]),
            "batch_id": _flat(ids),
            "flags": _flat([s.logged_flags() for s in served]),
            "batches": batches,
        }
    )
