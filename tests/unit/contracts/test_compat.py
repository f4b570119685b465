"""Each backward-compatibility rule catches its change, and compatible changes pass."""

from __future__ import annotations

import copy

import pytest

from driftline_contracts.compat import breaking_changes
from driftline_contracts.events import DataArrived
from driftline_contracts.schema import event_schema

BASE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 64},
        "rows": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
        "format": {"enum": ["csv", "parquet"], "type": "string"},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/Tag"}, "maxItems": 10},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["name", "format"],
    "$defs": {
        "Tag": {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]}
    },
    "x-driftline": {"ce_type": "io.x.v1", "topic": "t", "key": "name"},
}


def changed(edit) -> list[str]:
    new = copy.deepcopy(BASE)
    edit(new)
    return breaking_changes(BASE, new)


def test_identical_schemas_have_no_breaking_changes():
    assert breaking_changes(BASE, copy.deepcopy(BASE)) == []
    schema = event_schema(DataArrived)
    assert breaking_changes(schema, copy.deepcopy(schema)) == []


def test_removed_property_breaks():
    assert changed(lambda s: s["properties"].pop("rows")) == ["$: property 'rows' removed"]


def test_newly_required_property_breaks():
    assert changed(lambda s: s["required"].append("rows")) == [
        "$: property 'rows' is newly required"
    ]


def test_new_required_property_breaks_but_new_optional_one_does_not():
    def add(required):
        def edit(s):
            s["properties"]["owner"] = {"type": "string"}
            if required:
                s["required"].append("owner")

        return edit

    assert changed(add(required=False)) == []
    assert changed(add(required=True)) == ["$: property 'owner' is newly required"]


@pytest.mark.parametrize(
    ("prop", "new_node"),
    [
        ("name", {"type": "integer"}),
        ("rows", {"type": "integer", "minimum": 0}),  # null no longer accepted
        ("score", {"type": "integer"}),
        ("tags", {"type": "object"}),
    ],
)
def test_changed_type_breaks(prop, new_node):
    problems = changed(lambda s: s["properties"].__setitem__(prop, new_node))
    assert problems == [problems[0]]
    assert problems[0].startswith(f"$.{prop}: type changed")


def test_widened_type_does_not_break():
    assert (
        changed(
            lambda s: s["properties"].__setitem__(
                "score",
                {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "null"}]},
            )
        )
        == []
    )


def test_removed_enum_value_breaks_and_added_one_does_not():
    assert changed(lambda s: s["properties"]["format"].__setitem__("enum", ["csv"])) == [
        "$.format: enum value 'parquet' removed"
    ]
    assert changed(lambda s: s["properties"]["format"]["enum"].append("json")) == []


def test_turning_a_free_string_into_an_enum_breaks():
    assert changed(lambda s: s["properties"]["name"].__setitem__("enum", ["a"])) != []


@pytest.mark.parametrize(
    ("path", "key", "value"),
    [
        (("name",), "maxLength", 32),
        (("score",), "minimum", 0.5),
        (("score",), "maximum", 0.9),
        (("tags",), "maxItems", 5),
        (("tags",), "minItems", 1),
        (("name",), "pattern", "^[a-z]{1,8}$"),
        (("name",), "format", "uri"),
        (("name",), "minLength", 2),
    ],
)
def test_narrowed_constraint_breaks(path, key, value):
    def edit(s):
        s["properties"][path[0]][key] = value

    problems = changed(edit)
    assert len(problems) == 1
    assert problems[0].startswith(f"$.{path[0]}: {key}")


def test_loosened_constraints_do_not_break():
    def edit(s):
        s["properties"]["name"]["maxLength"] = 128
        s["properties"]["score"]["minimum"] = -1
        s["properties"]["tags"].pop("maxItems")
        s["properties"]["score"].pop("maximum")

    assert changed(edit) == []


def test_nested_definitions_are_compared_through_refs():
    assert changed(lambda s: s["$defs"]["Tag"]["required"].append("value")) == [
        "$.tags.items: property 'value' is newly required"
    ]
    assert changed(lambda s: s["$defs"]["Tag"]["properties"].pop("key")) == [
        "$.tags.items: property 'key' removed"
    ]


def test_closing_an_open_object_breaks():
    assert changed(lambda s: s["$defs"]["Tag"].__setitem__("additionalProperties", False)) == [
        "$.tags.items: additional properties no longer allowed"
    ]


def test_routing_changes_break():
    assert changed(lambda s: s["x-driftline"].__setitem__("topic", "t2")) == [
        "x-driftline.topic changed from 't' to 't2'"
    ]
