"""Is a new set of event schemas compatible with the last released one?

Within a major version (`.v1` types) a schema may only grow: subscribers wrote
their code, and may validate years of history, against the released schemas.
Breaking, and reported here:

- `removed-type`: a released type is no longer generated;
- `removed-field`: a property disappeared;
- `retyped-field`: a property accepts other JSON types or another `format`;
- `new-required-field`: a property is required that was not (new or existing);
- `no-longer-required`: a property readers could count on may now be missing;
- `narrowed-enum`: a value that was allowed no longer is (an enum lost a value,
  a free string became an enum, a const changed).

Additive, and accepted: a new optional property, a widened enum, a new type.
Readers must therefore ignore unknown properties and tolerate unknown enum values.

The comparison is structural over the JSON Schemas pydantic generates: `$ref`
into `$defs`, `anyOf` unions (e.g. nullable fields), objects, maps
(`additionalProperties`) and arrays.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Schema = Mapping[str, Any]
ANY = "any"  # a schema without a type constraint accepts every JSON type
_RELEASE_NAME = re.compile(r"^v(\d+)$")


@dataclass(frozen=True)
class Breaking:
    type_name: str
    path: str
    rule: str
    detail: str

    def __str__(self) -> str:
        where = f" {self.path}:" if self.path else ""
        return f"{self.type_name}:{where} {self.detail} [{self.rule}]"


@dataclass
class _Shape:
    """What a (sub)schema accepts, flattened across `$ref` and `anyOf`."""

    types: set[str] = field(default_factory=set)
    enum: set[str] | None = None  # JSON-encoded values; None: any value of those types
    formats: set[str] = field(default_factory=set)
    properties: dict[str, Schema] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    items: Schema | None = None
    additional: Schema | bool | None = None  # a map's value schema


def _resolve(schema: Schema, root: Schema) -> Schema:
    while "$ref" in schema:
        pointer = schema["$ref"]
        if not pointer.startswith("#/"):
            raise ValueError(f"only local references are supported, not {pointer!r}")
        target: Any = root
        for part in pointer[2:].split("/"):
            target = target[part]
        # Keys beside a `$ref` (description, default) say nothing about the type.
        schema = target
    return schema


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _shape(schema: Schema | bool, root: Schema) -> _Shape:
    if isinstance(schema, bool):
        return _Shape(types={ANY} if schema else set())
    schema = _resolve(schema, root)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        merged = _Shape()
        parts = [_shape(branch, root) for branch in branches]
        for part in parts:
            merged.types |= part.types
            merged.formats |= part.formats
            merged.properties.update(part.properties)
            merged.items = merged.items or part.items
            merged.additional = merged.additional or part.additional
        # A value is limited to a list only if every branch limits it.
        if all(part.enum is not None for part in parts):
            merged.enum = set().union(*(part.enum or set() for part in parts))
        object_parts = [part for part in parts if "object" in part.types]
        if object_parts:
            merged.required = set.intersection(*(part.required for part in object_parts))
        return merged
    shape = _Shape()
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    if values is not None:
        shape.enum = {json.dumps(v, sort_keys=True) for v in values}
    declared = schema.get("type")
    if declared is not None:
        shape.types = set(declared) if isinstance(declared, list) else {declared}
    elif values is not None:
        shape.types = {_json_type(v) for v in values}
    elif "properties" in schema or "additionalProperties" in schema:
        shape.types = {"object"}
    elif "items" in schema:
        shape.types = {"array"}
    else:
        shape.types = {ANY}
    if shape.types == {"null"} and shape.enum is None:
        shape.enum = {"null"}  # so a nullable enum field still compares as an enum
    if "format" in schema:
        shape.formats = {schema["format"]}
    shape.properties = dict(schema.get("properties", {}))
    shape.required = set(schema.get("required", ()))
    shape.items = schema.get("items")
    shape.additional = schema.get("additionalProperties")
    return shape


class _Comparison:
    def __init__(self, type_name: str, old_root: Schema, new_root: Schema) -> None:
        self.type_name = type_name
        self.old_root = old_root
        self.new_root = new_root
        self.found: list[Breaking] = []

    def report(self, path: str, rule: str, detail: str) -> None:
        self.found.append(Breaking(self.type_name, path, rule, detail))

    def compare(self, old: Schema | bool, new: Schema | bool, path: str) -> None:
        before, after = _shape(old, self.old_root), _shape(new, self.new_root)
        if before.types != after.types:
            self.report(
                path, "retyped-field", f"type {_types(before.types)} became {_types(after.types)}"
            )
            return
        if before.formats != after.formats:
            old_format = sorted(before.formats) or "none"
            new_format = sorted(after.formats) or "none"
            self.report(path, "retyped-field", f"format {old_format} became {new_format}")
        self._compare_enum(before, after, path)
        if "object" in before.types:
            self._compare_object(before, after, path)
        if "array" in before.types and before.items is not None:
            if after.items is None:
                self.report(f"{path}[]", "retyped-field", "items are no longer described")
            else:
                self.compare(before.items, after.items, f"{path}[]")

    def _compare_enum(self, before: _Shape, after: _Shape, path: str) -> None:
        if before.enum is None and after.enum is not None:
            self.report(path, "narrowed-enum", f"any value became one of {sorted(after.enum)}")
        elif before.enum is not None and after.enum is not None:
            lost = before.enum - after.enum
            if lost:
                self.report(path, "narrowed-enum", f"no longer allowed: {', '.join(sorted(lost))}")

    def _compare_object(self, before: _Shape, after: _Shape, path: str) -> None:
        prefix = f"{path}." if path else ""
        for name, old_property in before.properties.items():
            if name not in after.properties:
                self.report(prefix + name, "removed-field", "the field was removed")
                continue
            self.compare(old_property, after.properties[name], prefix + name)
        for name in sorted(after.required - before.required):
            new = name not in before.properties
            what = "a new field is required" if new else "the field became required"
            self.report(prefix + name, "new-required-field", what)
        for name in sorted((before.required - after.required) & set(after.properties)):
            self.report(prefix + name, "no-longer-required", "the field may now be missing")
        if isinstance(before.additional, Mapping):
            if isinstance(after.additional, Mapping):
                self.compare(before.additional, after.additional, f"{prefix}*")
            else:
                self.report(f"{prefix}*", "retyped-field", "map values are no longer described")


def _types(types: set[str]) -> str:
    return "|".join(sorted(types)) or "nothing"


def compare_schemas(type_name: str, old: Schema, new: Schema) -> list[Breaking]:
    """Breaking changes from the released schema `old` to `new` of one event type."""
    comparison = _Comparison(type_name, old, new)
    comparison.compare(old, new, "")
    return comparison.found


def compare_releases(old: Mapping[str, Schema], new: Mapping[str, Schema]) -> list[Breaking]:
    """Breaking changes between two sets of schemas, keyed by event type."""
    found = [
        Breaking(name, "", "removed-type", "the type is no longer published")
        for name in sorted(set(old) - set(new))
    ]
    for name in sorted(set(old) & set(new)):
        found += compare_schemas(name, old[name], new[name])
    return found


def load_schemas(directory: Path) -> dict[str, dict[str, Any]]:
    """`warmyang.*.json` files of a directory, keyed by event type."""
    return {
        path.name.removesuffix(".json"): json.loads(path.read_text())
        for path in sorted(directory.glob("warmyang.*.json"))
    }


def releases(released_dir: Path) -> list[Path]:
    """Release snapshots (`v1`, `v2`, …) in version order."""
    if not released_dir.is_dir():
        return []
    numbered = {
        int(match.group(1)): path
        for path in released_dir.iterdir()
        if path.is_dir() and (match := _RELEASE_NAME.match(path.name))
    }
    return [numbered[number] for number in sorted(numbered)]


def latest_release(released_dir: Path) -> Path | None:
    found = releases(released_dir)
    return found[-1] if found else None
