"""JSON Schemas of the event types, generated from the pydantic models.

The committed copies under `docs/schemas/` are the contract district systems
read; `crm-schemas check` (and a test) fails when they and the code disagree.
"""

import json
from pathlib import Path
from typing import Any

from crm_shared.contracts.base import EventData
from crm_shared.contracts.envelope import CloudEvent, schema_uri
from crm_shared.contracts.registry import ALL_EVENTS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def event_schema(model: type[EventData]) -> dict[str, Any]:
    """The schema of a whole CloudEvent of this type (envelope + data)."""
    schema = CloudEvent[model].model_json_schema(mode="serialization")  # type: ignore[valid-type]
    type_name = model.type_name()
    schema["properties"]["type"] = {"const": type_name, "type": "string", "title": "Type"}
    schema["properties"]["data"]["description"] = (model.__doc__ or "").strip() or type_name
    schema["title"] = type_name
    schema["$id"] = schema_uri(type_name)
    schema["x-topic"] = model.topic.name
    schema["x-kafka-key"] = "the enterprise id (UTF-8), also the CloudEvent `subject`"
    return {"$schema": SCHEMA_DIALECT, **schema}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    return {f"{model.type_name()}.json": render(event_schema(model)) for model in ALL_EVENTS}


def current_schemas() -> dict[str, dict[str, Any]]:
    """The schema of every event type the code publishes, keyed by type (as a reader sees it)."""
    return {model.type_name(): json.loads(render(event_schema(model))) for model in ALL_EVENTS}


def write_schemas(directory: Path) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in expected_files().items():
        path = directory / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(name)
    return written


def stale_schemas(directory: Path) -> list[str]:
    """Names of committed schema files that are missing, different or no longer generated."""
    expected = expected_files()
    present = {p.name for p in directory.glob("warmyang.*.json")} if directory.exists() else set()
    problems = [f"missing: {n}" for n in sorted(set(expected) - present)]
    problems += [f"no longer generated: {n}" for n in sorted(present - set(expected))]
    problems += [
        f"differs from the code: {n}"
        for n in sorted(set(expected) & present)
        if (directory / n).read_text() != expected[n]
    ]
    return problems
