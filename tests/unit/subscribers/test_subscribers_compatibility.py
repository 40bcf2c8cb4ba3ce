"""The compatibility checker: breaking changes fail, additive ones pass (synthetic pairs)."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crm_shared.contracts.compatibility import (
    compare_releases,
    compare_schemas,
    latest_release,
    load_schemas,
)
from crm_shared.contracts.schemas import current_schemas

pytestmark = pytest.mark.unit

RELEASED = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "released"
Schema = dict[str, Any]


def released_like() -> Schema:
    """The shape pydantic generates: an envelope, `$defs`, enums, nullable fields, a map, a list."""
    return {
        "$defs": {
            "Stage": {"enum": ["first_contact", "qualified", "engaged"], "type": "string"},
            "Change": {"properties": {"old": {}, "new": {}}, "type": "object"},
            "Data": {
                "properties": {
                    "enterprise_id": {"minLength": 1, "type": "string"},
                    "stage": {"$ref": "#/$defs/Stage"},
                    "previous": {"anyOf": [{"$ref": "#/$defs/Stage"}, {"type": "null"}]},
                    "reason": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                    "attempts": {"type": "integer"},
                    "at": {"format": "date-time", "type": "string"},
                    "contact_ids": {"items": {"type": "string"}, "type": "array"},
                    "changes": {
                        "additionalProperties": {"$ref": "#/$defs/Change"},
                        "type": "object",
                    },
                    "source": {"type": "string"},
                },
                "required": ["enterprise_id", "stage", "attempts", "at"],
                "type": "object",
            },
        },
        "properties": {
            "type": {"const": "warmyang.x.happened.v1", "type": "string"},
            "id": {"format": "uuid", "type": "string"},
            "data": {"$ref": "#/$defs/Data"},
        },
        "required": ["type", "data"],
        "type": "object",
    }


def data(schema: Schema) -> Schema:
    return schema["$defs"]["Data"]


def changed(edit: Callable[[Schema], None]) -> Schema:
    schema = copy.deepcopy(released_like())
    edit(schema)
    return schema


# case -> (edit of the released schema, rule, the paths it must report, space-separated)
BREAKING: dict[str, tuple[Callable[[Schema], None], str, str]] = {
    "removed field": (
        lambda s: data(s)["properties"].pop("source"),
        "removed-field",
        "data.source",
    ),
    "removed required field": (
        lambda s: (data(s)["properties"].pop("attempts"), data(s)["required"].remove("attempts")),
        "removed-field",
        "data.attempts",
    ),
    "retyped field": (
        lambda s: data(s)["properties"]["attempts"].update(type="string"),
        "retyped-field",
        "data.attempts",
    ),
    "field made nullable": (
        lambda s: data(s)["properties"].update(
            source={"anyOf": [{"type": "string"}, {"type": "null"}]}
        ),
        "retyped-field",
        "data.source",
    ),
    "format changed": (
        lambda s: data(s)["properties"]["at"].update(format="date"),
        "retyped-field",
        "data.at",
    ),
    "list item retyped": (
        lambda s: data(s)["properties"]["contact_ids"]["items"].update(type="integer"),
        "retyped-field",
        "data.contact_ids[]",
    ),
    "map value field removed": (
        lambda s: s["$defs"]["Change"]["properties"].pop("old"),
        "removed-field",
        "data.changes.*.old",
    ),
    "new required field": (
        lambda s: (
            data(s)["properties"].update(owner={"type": "string"}),
            data(s)["required"].append("owner"),
        ),
        "new-required-field",
        "data.owner",
    ),
    "optional field became required": (
        lambda s: data(s)["required"].append("source"),
        "new-required-field",
        "data.source",
    ),
    "required field became optional": (
        lambda s: data(s)["required"].remove("attempts"),
        "no-longer-required",
        "data.attempts",
    ),
    "narrowed enum (every field using it)": (
        lambda s: s["$defs"]["Stage"]["enum"].remove("engaged"),
        "narrowed-enum",
        "data.stage data.previous",
    ),
    "narrowed nullable enum": (
        lambda s: data(s)["properties"].update(
            previous={"anyOf": [{"enum": ["qualified"], "type": "string"}, {"type": "null"}]}
        ),
        "narrowed-enum",
        "data.previous",
    ),
    "free string became an enum": (
        lambda s: data(s)["properties"]["source"].update(enum=["forum"]),
        "narrowed-enum",
        "data.source",
    ),
    "type constant changed": (
        lambda s: s["properties"]["type"].update(const="warmyang.x.happened.v2"),
        "narrowed-enum",
        "type",
    ),
}


@pytest.mark.parametrize("case", BREAKING)
def test_a_breaking_change_fails(case: str) -> None:
    edit, rule, path = BREAKING[case]
    found = compare_schemas("warmyang.x.happened.v1", released_like(), changed(edit))
    expected = [(rule, where) for where in path.split()]
    assert [(b.rule, b.path) for b in found] == expected, [str(b) for b in found]


ADDITIVE: dict[str, Callable[[Schema], None]] = {
    "new optional field": lambda s: data(s)["properties"].update(
        owner={"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    ),
    "new optional field with a default": lambda s: data(s)["properties"].update(
        audience={"type": "string", "default": "contact"}
    ),
    "widened enum": lambda s: s["$defs"]["Stage"]["enum"].append("landed"),
    "enum became a free string": lambda s: data(s)["properties"].update(stage={"type": "string"}),
    "new field in a map value": lambda s: s["$defs"]["Change"]["properties"].update(
        at={"type": "string"}
    ),
    "descriptions and titles": lambda s: data(s)["properties"]["source"].update(
        description="where the firm came from", title="Source"
    ),
    "a definition renamed": lambda s: (
        s["$defs"].update(Phase=s["$defs"].pop("Stage")),
        data(s)["properties"].update(stage={"$ref": "#/$defs/Phase"}),
        data(s)["properties"].update(
            previous={"anyOf": [{"$ref": "#/$defs/Phase"}, {"type": "null"}]}
        ),
    ),
}


@pytest.mark.parametrize("case", ADDITIVE)
def test_an_additive_change_passes(case: str) -> None:
    found = compare_schemas("warmyang.x.happened.v1", released_like(), changed(ADDITIVE[case]))
    assert found == [], [str(b) for b in found]


def test_a_removed_type_fails_and_a_new_type_passes() -> None:
    old = {"warmyang.a.b.v1": released_like(), "warmyang.c.d.v1": released_like()}
    new = {"warmyang.a.b.v1": released_like(), "warmyang.c.d.v2": released_like()}
    assert [(b.type_name, b.rule) for b in compare_releases(old, new)] == [
        ("warmyang.c.d.v1", "removed-type")
    ]


def test_the_current_schemas_are_compatible_with_the_last_release() -> None:
    release = latest_release(RELEASED)
    assert release is not None, "docs/schemas/released/ holds no release"
    found = compare_releases(load_schemas(release), current_schemas())
    assert found == [], "\n".join(str(b) for b in found)


def test_the_release_check_catches_a_breaking_edit_of_a_real_type() -> None:
    current = current_schemas()
    edited = json.loads(json.dumps(current))
    stage = edited["warmyang.enterprise.stage_changed.v1"]["$defs"]["Stage"]
    stage["enum"].remove("landed")
    del edited["warmyang.contact.erased.v1"]
    found = {(b.type_name, b.rule) for b in compare_releases(current, edited)}
    assert found == {
        ("warmyang.enterprise.stage_changed.v1", "narrowed-enum"),
        ("warmyang.contact.erased.v1", "removed-type"),
    }


def test_latest_release_sorts_by_number(tmp_path: Path) -> None:
    for name in ("v1", "v10", "v2", "notes"):
        (tmp_path / name).mkdir()
    assert latest_release(tmp_path) == tmp_path / "v10"
    assert latest_release(tmp_path / "absent") is None
