"""Erasing a contact from stored events."""

import json

import pytest

from crm_shared.contracts import new_event
from crm_shared.contracts.erasure import ERASED, personal_values, scrub_event_bytes
from crm_shared.contracts.followup import NotificationRequested
from crm_shared.contracts.lifecycle import ContactAdded, EnterpriseStageChanged

pytestmark = pytest.mark.unit


def _added() -> dict:
    data = ContactAdded(
        enterprise_id="e1", contact_id="c1", full_name="Anna Schmidt", email="anna@example.com",
        phone="+4930123456",
    )  # fmt: skip
    return json.loads(new_event(data, service="intake", subject="e1").to_json())


def _requested() -> dict:
    data = NotificationRequested(
        notification_id="n1", enterprise_id="e1", recipient="anna@example.com",
        recipient_name="Anna Schmidt", template="welcome", category="followup",
        contact_id="c1", context={"greeting": "Liebe Anna Schmidt"},
    )  # fmt: skip
    return json.loads(new_event(data, service="followup", subject="e1").to_json())


def test_the_contacts_personal_values_are_found_in_events_that_name_them() -> None:
    other = json.loads(
        new_event(
            EnterpriseStageChanged(enterprise_id="e1", from_stage="qualified", to_stage="engaged"),
            service="intake",
            subject="e1",
        ).to_json()
    )
    assert personal_values([_added(), other], "c1") == {
        "Anna Schmidt",
        "anna@example.com",
        "+4930123456",
    }
    assert personal_values([_added()], "someone-else") == set()


def test_every_occurrence_is_replaced_even_inside_other_fields() -> None:
    secrets = personal_values([_added()], "c1")
    cleaned = json.loads(scrub_event_bytes(json.dumps(_requested()).encode(), secrets))
    assert cleaned["data"]["recipient"] == ERASED
    assert cleaned["data"]["recipient_name"] == ERASED
    assert cleaned["data"]["context"]["greeting"] == f"Liebe {ERASED}"
    assert "anna" not in json.dumps(cleaned).lower()
    assert cleaned["data"]["template"] == "welcome"


def test_an_event_without_the_values_is_left_alone() -> None:
    stage = new_event(
        EnterpriseStageChanged(enterprise_id="e1", from_stage="qualified", to_stage="engaged"),
        service="intake",
        subject="e1",
    )
    assert scrub_event_bytes(stage.to_json(), {"anna@example.com"}) is None
