"""The CloudEvents envelope and the type registry, without I/O."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from crm_shared.contracts import (
    EVENT_TYPES,
    InvalidEvent,
    UnknownEventType,
    decode_event,
    new_event,
)
from crm_shared.contracts.lifecycle import EnterpriseCreated, EnterpriseStageChanged
from crm_shared.contracts.topics import ALL_TOPICS, LIFECYCLE, NOTIFICATION

pytestmark = pytest.mark.unit


def _created() -> EnterpriseCreated:
    return EnterpriseCreated(
        enterprise_id="ent-1", name="Müller Präzisionstechnik GmbH", country="DE", source="forum"
    )


def test_round_trip_keeps_every_field() -> None:
    event = new_event(_created(), service="intake", subject="ent-1")
    decoded = decode_event(event.to_json(), LIFECYCLE.name)
    assert decoded == event
    assert isinstance(decoded.data, EnterpriseCreated)
    assert decoded.data.name == "Müller Präzisionstechnik GmbH"


def test_envelope_fields_follow_the_spec() -> None:
    event = new_event(_created(), service="intake", subject="ent-1")
    document = json.loads(event.to_json())
    assert document["specversion"] == "1.0"
    assert document["source"] == "/warmyang/intake"
    assert document["type"] == "warmyang.enterprise.created.v1"
    assert document["subject"] == "ent-1"
    assert document["datacontenttype"] == "application/json"
    assert document["dataschema"].endswith("warmyang.enterprise.created.v1")
    assert document["time"].endswith("Z")


def test_time_is_normalised_to_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    event = new_event(
        _created(),
        service="intake",
        subject="ent-1",
        time=datetime(2026, 10, 1, 9, tzinfo=shanghai),
    )
    assert event.time == datetime(2026, 10, 1, 1, tzinfo=UTC)
    assert event.time.utcoffset() == timedelta(0)


def test_unknown_fields_in_data_are_ignored_for_forward_compatibility() -> None:
    document = json.loads(new_event(_created(), service="intake", subject="ent-1").to_json())
    document["data"]["added_in_v1_5"] = "anything"
    decoded = decode_event(json.dumps(document))
    assert decoded.data == _created()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (None, "empty message"),
    ],
)
def test_malformed_messages_are_invalid(raw: bytes | None, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        decode_event(raw)


def test_unknown_type_is_named() -> None:
    with pytest.raises(UnknownEventType, match=r"warmyang\.enterprise\.exploded\.v1"):
        decode_event(json.dumps({"type": "warmyang.enterprise.exploded.v1"}))


def test_invalid_payload_names_each_bad_field() -> None:
    event = new_event(
        EnterpriseStageChanged(enterprise_id="e", from_stage="qualified", to_stage="engaged"),
        service="intake",
        subject="e",
    )
    document = json.loads(event.to_json())
    document["data"]["to_stage"] = "bankrupt"
    del document["subject"]
    with pytest.raises(InvalidEvent) as caught:
        decode_event(json.dumps(document))
    assert "data.to_stage" in str(caught.value)
    assert "subject: Field required" in str(caught.value)


def test_an_event_on_the_wrong_topic_is_invalid() -> None:
    raw = new_event(_created(), service="intake", subject="ent-1").to_json()
    with pytest.raises(InvalidEvent, match="does not belong on topic"):
        decode_event(raw, NOTIFICATION.name)


def test_every_spec_type_is_registered_on_a_known_topic() -> None:
    spec_types = {
        "enterprise.created", "enterprise.updated", "enterprise.stage_changed",
        "enterprise.status_changed", "enterprise.merged", "contact.added", "contact.updated",
        "contact.consent_changed", "contact.erased", "interaction.logged",
        "followup.scheduled", "followup.cancelled", "followup.completed",
        "notification.requested", "notification.sent", "notification.failed",
        "notification.suppressed", "notification.unsubscribed",
    }  # fmt: skip
    assert {f"warmyang.{name}.v1" for name in spec_types} == set(EVENT_TYPES)
    assert {model.topic for model in EVENT_TYPES.values()} == set(ALL_TOPICS)
