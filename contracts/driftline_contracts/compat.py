"""Backward-compatibility rules between two versions of an event's JSON Schema.

Backward compatible means a consumer built on the new schema accepts every event that was
valid under the old one. So a change breaks when the new schema removes a property, requires
one more, changes a property's type, drops an enum value or narrows a constraint.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

ANY = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EXACT = ("pattern", "format", "multipleOf")
_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    type(None): "null",
    list: "array",
    dict: "object",
}


def breaking_changes(old_schema: Schema, new_schema: Schema) -> list[str]:
    """Every backward-incompatible difference from ``old_schema`` to ``new_schema``."""
    problems: list[str] = []
    old_meta, new_meta = old_schema.get("x-driftline", {}), new_schema.get("x-driftline", {})
    problems += [
        f"x-driftline.{key} changed from {old_meta[key]!r} to {new_meta.get(key)!r}"
        for key in ("ce_type", "topic", "key")
        if key in old_meta and old_meta[key] != new_meta.get(key)
    ]
    _compare(old_schema, new_schema, old_schema, new_schema, "$", problems, set())
    return problems


def _resolve(node: Schema, root: Schema) -> Schema:
    """Follow local ``$ref``s (``#/$defs/Name``)."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 50:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, seen = target, seen + 1
    return node if isinstance(node, dict) else {}


def _branches(node: Schema, root: Schema) -> list[Schema]:
    node = _resolve(node, root)
    alternatives = node.get("anyOf") or node.get("oneOf")
    if not alternatives:
        return [node]
    return [b for alt in alternatives for b in _branches(alt, root)]


def _types(node: Schema, root: Schema) -> frozenset[str]:
    """JSON types a schema node accepts; ``integer`` is implied by ``number``."""
    found: set[str] = set()
    for branch in _branches(node, root):
        if "const" in branch or "enum" in branch:
            values = [branch["const"]] if "const" in branch else branch["enum"]
            found |= {_JSON_TYPES.get(type(v), "string") for v in values}
        elif "type" in branch:
            kind = branch["type"]
            found |= set(kind) if isinstance(kind, list) else {kind}
        else:
            return ANY
    if "number" in found:
        found.add("integer")
    return frozenset(found)


def _allowed_values(node: Schema, root: Schema) -> list[Any] | None:
    """Enum/const values of a node, or None if it is not an enumeration."""
    values: list[Any] = []
    for branch in _branches(node, root):
        if "const" in branch:
            values.append(branch["const"])
        elif "enum" in branch:
            values.extend(branch["enum"])
        elif branch.get("type") != "null":
            return None
    return values


def _compare(
    old: Schema,
    new: Schema,
    old_root: Schema,
    new_root: Schema,
    path: str,
    problems: list[str],
    seen: set[tuple[int, int]],
) -> None:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    if (id(old), id(new)) in seen:
        return
    seen.add((id(old), id(new)))
    old_types, new_types = _types(old, old_root), _types(new, new_root)
    if not old_types <= new_types:
        problems.append(f"{path}: type changed from {_show(old_types)} to {_show(new_types)}")
        return
    _compare_enums(old, new, old_root, new_root, path, problems)
    old_b, new_b = _branches(old, old_root), _branches(new, new_root)
    old_b = [b for b in old_b if b.get("type") != "null"]
    new_b = [b for b in new_b if b.get("type") != "null"]
    if len(old_b) == 1 and len(new_b) == 1:
        old, new = old_b[0], new_b[0]
    elif len(old_b) != len(new_b):
        return
    else:
        for i, (o, n) in enumerate(zip(old_b, new_b, strict=True)):
            _compare(o, n, old_root, new_root, f"{path}|{i}", problems, seen)
        return
    _compare_constraints(old, new, path, problems)
    _compare_objects(old, new, old_root, new_root, path, problems, seen)
    for key in ("items", "additionalProperties", "propertyNames"):
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            _compare(old[key], new[key], old_root, new_root, f"{path}.{key}", problems, seen)


def _compare_enums(
    old: Schema, new: Schema, old_root: Schema, new_root: Schema, path: str, problems: list[str]
) -> None:
    old_values, new_values = _allowed_values(old, old_root), _allowed_values(new, new_root)
    if new_values is None:
        return
    if old_values is None:
        problems.append(f"{path}: now restricted to the values {new_values!r}")
        return
    problems += [f"{path}: enum value {v!r} removed" for v in old_values if v not in new_values]


def _compare_constraints(old: Schema, new: Schema, path: str, problems: list[str]) -> None:
    narrowed = [k for k in _LOWER_BOUNDS if k in new and (k not in old or new[k] > old[k])]
    narrowed += [k for k in _UPPER_BOUNDS if k in new and (k not in old or new[k] < old[k])]
    problems += [f"{path}: {k} narrowed from {old.get(k)!r} to {new[k]!r}" for k in narrowed]
    problems += [
        f"{path}: {k} changed from {old.get(k)!r} to {new[k]!r}"
        for k in _EXACT
        if k in new and new[k] != old.get(k)
    ]
    if new.get("additionalProperties") is False and old.get("additionalProperties") is not False:
        problems.append(f"{path}: additional properties no longer allowed")


def _compare_objects(
    old: Schema,
    new: Schema,
    old_root: Schema,
    new_root: Schema,
    path: str,
    problems: list[str],
    seen: set[tuple[int, int]],
) -> None:
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    problems += [
        f"{path}: property {name!r} removed" for name in old_props if name not in new_props
    ]
    old_required = set(old.get("required", ()))
    problems += [
        f"{path}: property {name!r} is newly required"
        for name in new.get("required", ())
        if name not in old_required
    ]
    for name in old_props.keys() & new_props.keys():
        _compare(
            old_props[name], new_props[name], old_root, new_root, f"{path}.{name}", problems, seen
        )


def _show(types: frozenset[str]) -> str:
    return (
        "any"
        if types == ANY
        else "|".join(sorted(types - {"integer"} if "number" in types else types))
    )
