"""Hypothesis strategies that draw JSON documents from the events' own JSON Schemas."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

Schema = dict[str, Any]
MAX_COLLECTION = 3
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False)
)


def _resolve(node: Schema, root: Schema) -> Schema:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _string(node: Schema) -> st.SearchStrategy[str]:
    if node.get("format") == "date-time":
        moments = st.datetimes(timezones=st.sampled_from([UTC]))
        return moments.map(lambda d: d.isoformat())
    max_len = node.get("maxLength", 10_000)
    if "pattern" in node:
        return st.from_regex(node["pattern"], fullmatch=True).filter(lambda s: len(s) <= max_len)
    return st.text(min_size=node.get("minLength", 0), max_size=min(max_len, 20))


def _number(node: Schema, integer: bool) -> st.SearchStrategy[Any]:
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    if integer:
        return st.integers(min_value=low, max_value=high)
    return st.floats(
        min_value=low,
        max_value=high,
        allow_nan=False,
        allow_infinity=False,
        exclude_min="exclusiveMinimum" in node,
        exclude_max="exclusiveMaximum" in node,
    )


def _object(node: Schema, root: Schema) -> st.SearchStrategy[dict[str, Any]]:
    if "patternProperties" in node:
        [(pattern, extra)] = node["patternProperties"].items()
        keys = _string({"type": "string", "pattern": pattern})
        values = from_schema(extra, root)
        return st.dictionaries(
            keys, values, min_size=node.get("minProperties", 0), max_size=MAX_COLLECTION
        )
    if "properties" not in node:
        extra = node.get("additionalProperties", {})
        keys = _string(node.get("propertyNames", {"type": "string", "minLength": 1}))
        values = from_schema(extra if isinstance(extra, dict) else {}, root)
        return st.dictionaries(
            keys, values, min_size=node.get("minProperties", 0), max_size=MAX_COLLECTION
        )
    required = set(node.get("required", ()))
    fields = {name: from_schema(sub, root) for name, sub in node["properties"].items()}
    optional = {n: s for n, s in fields.items() if n not in required}
    return st.fixed_dictionaries({n: fields[n] for n in required}, optional=optional)


def from_schema(node: Schema, root: Schema) -> st.SearchStrategy[Any]:
    """Documents valid against ``node`` as far as JSON Schema can say."""
    node = _resolve(node, root)
    if "anyOf" in node:
        return st.one_of([from_schema(branch, root) for branch in node["anyOf"]])
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node.get("type")
    if kind is None:
        return st.recursive(
            JSON_SCALARS,
            lambda inner: (
                st.lists(inner, max_size=2)
                | st.dictionaries(st.text(max_size=4), inner, max_size=2)
            ),
            max_leaves=4,
        )
    if kind == "array":
        return st.lists(
            from_schema(node.get("items", {}), root),
            min_size=node.get("minItems", 0),
            max_size=min(node.get("maxItems", MAX_COLLECTION), MAX_COLLECTION),
        )
    if kind == "object":
        return _object(node, root)
    simple = {
        "string": lambda: _string(node),
        "integer": lambda: _number(node, True),
        "number": lambda: _number(node, False),
        "boolean": st.booleans,
        "null": st.none,
    }
    return simple[kind]()


def fix_cross_field_rules(doc: Any) -> Any:
    """Make drawn documents honour rules JSON Schema cannot state (window order, batch xor)."""
    if isinstance(doc, list):
        return [fix_cross_field_rules(item) for item in doc]
    if not isinstance(doc, dict):
        return doc
    doc = {key: fix_cross_field_rules(value) for key, value in doc.items()}
    if set(doc) == {"start", "end"}:
        assume(doc["start"] != doc["end"])
        doc["start"], doc["end"] = sorted((doc["start"], doc["end"]))
    if "batch_id" in doc:
        rows = doc.get("rows")
        assume(bool(rows) or doc.get("batch") is not None)
        if rows:
            doc["batch"], doc["count"] = None, len(rows)
        else:
            doc["rows"] = None
    return doc
