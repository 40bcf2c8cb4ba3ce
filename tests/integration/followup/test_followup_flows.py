"""Follow-up driven by lifecycle events through the real broker and database.

Lifecycle events are published here as intake would publish them; the service
runs in this process with a movable clock, so time moves instead of tests sleeping.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from crm_shared.contracts.lifecycle import (
    ContactAdded,
    ContactConsentChanged,
    ContactErased,
    EnterpriseCreated,
    EnterpriseMerged,
    EnterpriseStatusChanged,
    InteractionLogged,
)
from crm_shared.contracts.notification import NotificationSent, NotificationUnsubscribed
from crm_shared.contracts.topics import NOTIFICATION_REQUESTS
from crm_shared.contracts.vocabulary import InteractionKind, Language, Source, Status
from support import TopicReader, unique, wait_until

from .followup_kit import (
    ADMIN_TOKEN,
    Intake,
    RunningFollowup,
    followups_of,
    outbox_events,
    running_followup,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
LONG_AGO = datetime(2000, 1, 3, tzinfo=UTC)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def followup(
    kafka_bootstrap: str, mongo_uri: str, kafka_topics
) -> AsyncIterator[RunningFollowup]:
    async with running_followup(kafka_bootstrap, mongo_uri) as service:
        yield service


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def intake(kafka_bootstrap: str) -> AsyncIterator[Intake]:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    yield Intake(producer)
    await producer.stop()


@pytest.fixture(autouse=True)
def _nothing_due_until_a_test_moves_time(followup: RunningFollowup):
    # The dispatcher's "now" starts long ago, so whatever a test schedules stays
    # pending (whatever the hour the suite runs at) until the test moves the clock.
    followup.clock.set(LONG_AGO)
    yield
    followup.clock.set(LONG_AGO)


async def _firm(
    intake: Intake, *, country: str = "DE", timezone: str = "Europe/Berlin", consent: bool = True
) -> tuple[str, str]:
    firm, contact = unique("ent"), unique("con")
    await intake.publish(
        EnterpriseCreated(
            enterprise_id=firm, name=f"Muster {firm} GmbH", country=country, source=Source.FORUM,
            owner="li.wei", primary_contact_id=contact,
        )
    )  # fmt: skip
    await intake.publish(
        ContactAdded(
            enterprise_id=firm, contact_id=contact, full_name="Anna Schmidt",
            email=f"{contact}@example.com", language=Language.DE, timezone=timezone,
            country=country, email_consent=consent, is_primary=True,
        )
    )  # fmt: skip
    return firm, contact


def _millis(instant: datetime) -> datetime:
    """BSON keeps milliseconds; the event keeps microseconds."""
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


async def _wait_for(
    followup: RunningFollowup, firm: str, count: int, **query: object
) -> list[dict]:
    found: list[dict] = []

    async def enough() -> bool:
        found[:] = await followups_of(followup.db, firm, **query)
        return len(found) >= count

    await wait_until(enough, timeout=60)
    return found


async def _requests_for(kafka_bootstrap: str, followup_ids: set[str]) -> dict[str, list[dict]]:
    by_followup: dict[str, list[dict]] = {}
    async with TopicReader(kafka_bootstrap, NOTIFICATION_REQUESTS.name) as topic:

        def all_seen(records: list) -> bool:
            by_followup.clear()
            for record in records:
                event = json.loads(record.value)
                if event["data"].get("followup_id") in followup_ids:
                    by_followup.setdefault(event["data"]["followup_id"], []).append(event)
            return set(by_followup) == followup_ids

        await topic.read_until(all_seen, timeout=60)
    return by_followup


async def test_welcome_for_a_consenting_contact_only_and_one_transaction_per_event(
    followup: RunningFollowup, intake: Intake, kafka_bootstrap: str
) -> None:
    firm, contact = await _firm(intake)
    silent_firm, _ = await _firm(intake, consent=False)

    (welcome,) = await _wait_for(followup, firm, 1, rule="welcome")
    assert welcome["_id"] == f"welcome:{contact}"
    await _wait_for(followup, silent_firm, 1, rule="no_interaction_reminder")
    assert await followups_of(followup.db, silent_firm, rule="welcome") == []
    assert await followups_of(followup.db, silent_firm, rule="no_interaction_checkin") == []

    # Each lifecycle event was applied in one transaction: every follow-up event it caused
    # carries the transaction's time, which is the time its inbox record was written.
    inbox = await followup.db.inbox.find({"subject": firm}).to_list()
    assert len(inbox) == 2
    scheduled = await outbox_events(followup.db, firm, "followup.scheduled.v1")
    assert {e["data"]["rule"] for e in scheduled} == {
        "welcome", "no_interaction_reminder", "no_interaction_checkin",
    }  # fmt: skip
    transaction_times = {_millis(r["processed_at"]) for r in inbox}
    assert {_millis(datetime.fromisoformat(e["time"])) for e in scheduled} <= transaction_times

    followup.clock.set(welcome["due_at"] + timedelta(minutes=1))
    requests = await _requests_for(kafka_bootstrap, {welcome["_id"]})
    (request,) = requests[welcome["_id"]]
    assert request["data"]["recipient"] == f"{contact}@example.com"
    assert request["data"]["template"] == "welcome"
    assert request["data"]["locale"] == "de"
    assert request["data"]["context"]["enterprise_name"] == f"Muster {firm} GmbH"
    (done,) = await followups_of(followup.db, firm, rule="welcome")
    assert done["status"] == "dispatched"

    await intake.publish(
        NotificationSent(
            enterprise_id=firm, contact_id=contact,
            notification_id=request["data"]["notification_id"], template="welcome",
            message_id="<m@example.com>", sent_at=datetime.now(UTC), followup_id=welcome["_id"],
        )
    )  # fmt: skip
    await _wait_for(followup, firm, 1, rule="welcome", status="completed")
    (completed,) = await outbox_events(followup.db, firm, "followup.completed.v1")
    assert completed["data"]["notification_id"] == request["data"]["notification_id"]


async def test_thank_you_on_the_next_business_morning_in_the_contacts_zone(
    followup: RunningFollowup, intake: Intake, kafka_bootstrap: str
) -> None:
    berlin_firm, berlin_contact = await _firm(intake)
    shanghai_firm, shanghai_contact = await _firm(intake, country="CN", timezone="Asia/Shanghai")
    friday_evening = datetime(2026, 11, 20, 19, 30, tzinfo=BERLIN)
    before_national_day = datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI)
    for firm, contact, occurred in (
        (berlin_firm, berlin_contact, friday_evening),
        (shanghai_firm, shanghai_contact, before_national_day),
    ):
        await intake.publish(
            InteractionLogged(
                enterprise_id=firm, interaction_id=unique("int"), kind=InteractionKind.MEETING,
                occurred_at=occurred, contact_ids=[contact],
            )
        )  # fmt: skip
    (berlin,) = await _wait_for(followup, berlin_firm, 1, rule="thank_you")
    (shanghai,) = await _wait_for(followup, shanghai_firm, 1, rule="thank_you")
    assert berlin["due_at"].astimezone(BERLIN) == datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
    assert shanghai["due_at"].astimezone(SHANGHAI) == datetime(2026, 10, 8, 9, 0, tzinfo=SHANGHAI)

    followup.clock.set(berlin["due_at"] + timedelta(minutes=5))  # Monday 09:05 in Berlin
    requests = await _requests_for(kafka_bootstrap, {berlin["_id"], shanghai["_id"]})
    assert requests[berlin["_id"]][0]["data"]["context"]["interaction_date"] == "2026-11-20"
    assert requests[shanghai["_id"]][0]["data"]["timezone"] == "Asia/Shanghai"


async def test_an_interaction_cancels_the_nudge_and_restarts_its_clock(
    followup: RunningFollowup, intake: Intake
) -> None:
    firm, _ = await _firm(intake)
    (nudge,) = await _wait_for(followup, firm, 1, rule="no_interaction_reminder")
    occurred = datetime.now(UTC) + timedelta(days=2)
    await intake.publish(
        InteractionLogged(
            enterprise_id=firm, interaction_id=unique("int"), kind=InteractionKind.CALL,
            occurred_at=occurred,
        )
    )  # fmt: skip
    reminders = await _wait_for(followup, firm, 2, rule="no_interaction_reminder")
    by_status = {doc["status"]: doc for doc in reminders}
    assert by_status["cancelled"]["_id"] == nudge["_id"]
    assert by_status["cancelled"]["cancel_reason"] == "superseded_by_interaction"
    assert by_status["pending"]["due_at"] >= occurred + timedelta(days=14)
    cancelled = await outbox_events(followup.db, firm, "followup.cancelled.v1")
    assert {(e["data"]["followup_id"], e["data"]["reason"]) for e in cancelled} >= {
        (nudge["_id"], "superseded_by_interaction")
    }


async def test_opt_out_unsubscribe_and_erasure_cancel_a_contacts_emails(
    followup: RunningFollowup, intake: Intake
) -> None:
    opted, opted_contact = await _firm(intake)
    unsubscribed, unsubscribed_contact = await _firm(intake)
    erased, erased_contact = await _firm(intake)
    for firm in (opted, unsubscribed, erased):
        await _wait_for(followup, firm, 3)  # welcome, check-in, staff reminder

    await intake.publish(
        ContactConsentChanged(enterprise_id=opted, contact_id=opted_contact, email_consent=False)
    )
    await intake.publish(
        NotificationUnsubscribed(enterprise_id=unsubscribed, contact_id=unsubscribed_contact)
    )
    await intake.publish(ContactErased(enterprise_id=erased, contact_id=erased_contact))

    for firm, reason in (
        (opted, "opted_out"),
        (unsubscribed, "unsubscribed"),
        (erased, "contact_erased"),
    ):
        cancelled = await _wait_for(followup, firm, 2, status="cancelled")
        assert {d["rule"] for d in cancelled} == {"welcome", "no_interaction_checkin"}
        assert {d["cancel_reason"] for d in cancelled} == {reason}
        (staff,) = await followups_of(followup.db, firm, status="pending")
        assert staff["rule"] == "no_interaction_reminder", "the staff reminder is not the contact's"
    assert await followup.db.contacts.find_one({"_id": erased_contact}) is None
    erased_docs = await followup.db.followups.find({"contact_id": erased_contact}).to_list()
    assert erased_docs
    assert all("anchor" not in doc for doc in erased_docs)
    projection = await followup.db.contacts.find_one({"_id": opted_contact})
    assert projection["email_consent"] is False


async def test_lost_cancels_the_plan_and_a_merge_moves_it_without_doubles(
    followup: RunningFollowup, intake: Intake, kafka_bootstrap: str
) -> None:
    lost, _ = await _firm(intake)
    await _wait_for(followup, lost, 3)
    await intake.publish(
        EnterpriseStatusChanged(
            enterprise_id=lost, from_status=Status.ACTIVE, to_status=Status.LOST,
            reason="moved to Suzhou",
        )
    )  # fmt: skip
    cancelled = await _wait_for(followup, lost, 3, status="cancelled")
    assert {d["cancel_reason"] for d in cancelled} == {"firm_lost"}

    survivor, _ = await _firm(intake)
    duplicate, duplicate_contact = await _firm(intake)
    await intake.publish(
        InteractionLogged(
            enterprise_id=duplicate, interaction_id=unique("int"), kind=InteractionKind.SITE_VISIT,
            occurred_at=datetime.now(UTC), contact_ids=[duplicate_contact],
        )
    )  # fmt: skip
    (thanks,) = await _wait_for(followup, duplicate, 1, rule="thank_you")
    await _wait_for(followup, survivor, 3)
    await intake.publish(
        EnterpriseMerged(enterprise_id=survivor, survivor_id=survivor, merged_id=duplicate)
    )
    await _wait_for(followup, survivor, 1, rule="thank_you")
    (moved,) = await followups_of(followup.db, survivor, rule="thank_you")
    assert (moved["_id"], moved["status"]) == (thanks["_id"], "pending")
    assert await followups_of(followup.db, duplicate, status="pending") == []
    for rule in ("no_interaction_reminder", "no_interaction_checkin"):
        open_ones = await followups_of(followup.db, survivor, rule=rule, status="pending")
        assert len(open_ones) == 1, f"{rule}: one clock for the merged firm"
    contact = await followup.db.contacts.find_one({"_id": duplicate_contact})
    assert contact["enterprise_id"] == survivor

    followup.clock.set(moved["due_at"] + timedelta(minutes=1))
    requests = await _requests_for(kafka_bootstrap, {moved["_id"]})
    await _wait_for(followup, survivor, 1, rule="thank_you", status="dispatched")
    assert len({e["id"] for e in requests[moved["_id"]]}) == 1


async def test_staff_list_and_cancel_over_http(followup: RunningFollowup, intake: Intake) -> None:
    firm, _ = await _firm(intake)
    await _wait_for(followup, firm, 3)
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    http = followup.http

    unauthorized = await http.get("/api/v1/followups", params={"enterprise_id": firm})
    assert unauthorized.status_code == 401
    assert unauthorized.headers["content-type"].startswith("application/problem+json")
    listed = await http.get("/api/v1/followups", params={"enterprise_id": firm}, headers=auth)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["count"] == 3
    assert [i["due_at"] for i in body["items"]] == sorted(i["due_at"] for i in body["items"])
    welcome = next(i for i in body["items"] if i["rule"] == "welcome")

    cancelled = await http.post(
        f"/api/v1/followups/{welcome['id']}/cancel", json={"reason": "met in person"}, headers=auth
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "cancelled_by_staff: met in person"
    again = await http.post(f"/api/v1/followups/{welcome['id']}/cancel", headers=auth)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    missing = await http.post("/api/v1/followups/nope/cancel", headers=auth)
    assert missing.status_code == 404
    filtered = await http.get(
        "/api/v1/followups", params={"enterprise_id": firm, "status": "cancelled"}, headers=auth
    )
    assert [i["id"] for i in filtered.json()["items"]] == [welcome["id"]]
    invalid = await http.get("/api/v1/followups", params={"status": "sideways"}, headers=auth)
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} >= {"query.enterprise_id", "query.status"}
    (event,) = [
        e for e in await outbox_events(followup.db, firm, "followup.cancelled.v1")
        if e["data"]["followup_id"] == welcome["id"]
    ]  # fmt: skip
    assert event["data"]["actor"] == "bootstrap-admin"
