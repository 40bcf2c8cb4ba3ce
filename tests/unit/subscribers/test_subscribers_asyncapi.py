"""The committed AsyncAPI document is what the code generates, and it describes every topic."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from crm_shared.contracts import ALL_EVENTS, ALL_TOPICS, CONTENT_TYPE, new_event
from crm_shared.contracts.asyncapi import build_asyncapi, channel_id, stale_asyncapi
from crm_shared.contracts.lifecycle import ContactErased, EnterpriseStageChanged
from crm_shared.kafka import headers as h
from crm_shared.mongo.outbox import stored_event

pytestmark = pytest.mark.unit

ASYNCAPI = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"
DOC_URI = "urn:test:asyncapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(ASYNCAPI.read_text())


def test_committed_asyncapi_matches_the_code() -> None:
    assert stale_asyncapi(ASYNCAPI) == [], "run `crm-schemas write` and commit docs/asyncapi.json"


def test_stale_check_notices_a_changed_document(tmp_path: Path) -> None:
    copy = tmp_path / "asyncapi.json"
    copy.write_text(ASYNCAPI.read_text().replace('"contact.erased"', '"contact.gone"'))
    assert stale_asyncapi(copy) == ["differs from the code: asyncapi.json"]
    assert stale_asyncapi(tmp_path / "absent.json") == ["missing: absent.json"]


def test_every_topic_and_its_dlq_is_a_channel(document: dict[str, Any]) -> None:
    addresses = {c["address"] for c in document["channels"].values()}
    assert addresses == {n for t in ALL_TOPICS for n in (t.name, t.dlq)}
    assert document["asyncapi"] == "3.0.0"


def test_every_event_type_is_a_message_on_its_topic(document: dict[str, Any]) -> None:
    for model in ALL_EVENTS:
        channel = document["channels"][channel_id(model.topic.name)]
        refs = {m["$ref"] for m in channel["messages"].values()}
        assert f"#/components/messages/{model.type_name()}" in refs


def test_messages_describe_the_key_and_the_headers_the_relay_sets(
    document: dict[str, Any],
) -> None:
    event = new_event(
        ContactErased(enterprise_id="e1", contact_id="c1"), service="intake", subject="e1"
    )
    record = stored_event(event)  # what the relay publishes: headers, key and value
    message = document["components"]["messages"][event.type]
    relay_headers = dict(record["headers"])
    jsonschema.validate(relay_headers, message["headers"])
    assert set(relay_headers) == set(message["headers"]["required"])
    assert message["contentType"] == CONTENT_TYPE
    jsonschema.validate(record["key"], message["bindings"]["kafka"]["key"])
    other = {**relay_headers, "ce_type": "warmyang.contact.added.v1"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(other, message["headers"])


def test_dead_letter_message_names_every_dlq_header(document: dict[str, Any]) -> None:
    headers = document["components"]["messages"]["dead_letter"]["headers"]
    assert set(headers["required"]) == set(h.DLQ_HEADERS)


def test_an_event_validates_against_its_payload_schema_in_the_document(
    document: dict[str, Any],
) -> None:
    registry = Registry().with_resource(DOC_URI, Resource(document, DRAFT7))
    event = new_event(
        EnterpriseStageChanged(enterprise_id="e1", from_stage="qualified", to_stage="engaged"),
        service="intake",
        subject="e1",
    )
    payload = {"$ref": f"{DOC_URI}#/components/schemas/{event.type}"}
    validator = jsonschema.Draft7Validator(payload, registry=registry)
    validator.validate(json.loads(event.to_json()))
    broken = json.loads(event.to_json())
    broken["data"]["to_stage"] = "somewhere"
    assert not validator.is_valid(broken)


def test_every_reference_in_the_document_resolves(document: dict[str, Any]) -> None:
    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [r for value in node.values() for r in refs(value)]
        if isinstance(node, list):
            return [r for item in node for r in refs(item)]
        return []

    for ref in refs(document):
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in target, f"dangling reference {ref}"
            target = target[part]


def test_the_document_is_deterministic() -> None:
    assert build_asyncapi() == build_asyncapi()
