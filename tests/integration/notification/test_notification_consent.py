"""Consent: the unsubscribe link, withdrawn and renewed email consent, erasure of a
contact, and who may read the delivery log."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiokafka import AIOKafkaProducer

from crm_devstack import SmtpSink
from crm_notification.adapters.deliveries import DeliveryRepository, new_delivery
from crm_shared.contracts import CloudEvent, new_event
from crm_shared.contracts.lifecycle import ContactConsentChanged, ContactErased
from crm_shared.contracts.topics import NOTIFICATION
from crm_shared.contracts.vocabulary import Language, NotificationCategory
from support import TopicReader, unique, wait_until

from .conftest import (
    RunningService,
    address,
    events_about,
    notification_settings,
    publish,
    requested,
    run_service,
    to,
    types_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]


def _about_enterprise(records: list[Any], enterprise_id: str) -> list[dict[str, Any]]:
    return [e for r in records if (e := json.loads(r.value))["subject"] == enterprise_id]


def _unsubscribe_path(message_text: str) -> str:
    [url] = re.findall(r"https://notify\.example\.com/unsubscribe/\S+", message_text)
    return urlsplit(url).path


async def test_unsubscribing_through_the_link_stops_the_next_email(
    service: RunningService, producer: AIOKafkaProducer, smtp_sink: SmtpSink, kafka_bootstrap: str
) -> None:
    recipient = address("unsub")
    first = requested(recipient=recipient, locale=Language.ZH)
    await publish(producer, first)
    [message] = await smtp_sink.wait_for(to(recipient), timeout=30)
    path = _unsubscribe_path(message.get_body(("plain",)).get_content())

    page = await service.http.get(path)  # asks, in the recipient's language; changes nothing
    assert page.status_code == 200
    assert '<html lang="zh">' in page.text
    assert "退订" in page.text
    assert 'method="post"' in page.text
    done = await service.http.post(path, content=b"List-Unsubscribe=One-Click")  # RFC 8058
    assert done.status_code == 200
    assert "您已成功退订" in done.text
    again = await service.http.post(path)  # a second click is harmless
    assert again.status_code == 200

    second = requested(recipient=recipient.upper(), enterprise_id=first.subject)  # same mailbox
    await publish(producer, second)
    async with TopicReader(kafka_bootstrap, NOTIFICATION.name) as reader:

        def settled(records: list[Any]) -> bool:
            return bool(events_about(records, second.data.notification_id)) and any(
                e["type"].endswith("notification.unsubscribed.v1")
                for e in _about_enterprise(records, first.subject)
            )

        await reader.read_until(settled, timeout=30)
        about_first = _about_enterprise(reader.records, first.subject)
    unsubscribed = [e for e in about_first if e["type"].endswith("notification.unsubscribed.v1")]
    assert len(unsubscribed) == 1  # the second click emitted nothing
    assert unsubscribed[0]["data"]["contact_id"] == first.data.contact_id
    assert unsubscribed[0]["data"]["notification_id"] == first.data.notification_id
    [suppressed] = events_about(reader.records, second.data.notification_id)
    assert types_of([suppressed]) == ["notification.suppressed"]
    assert suppressed["data"]["reason"] == "unsubscribed"
    assert len([m for m in smtp_sink.messages() if to(recipient)(m)]) == 1


async def test_a_forged_or_unknown_token_unsubscribes_nobody(service: RunningService) -> None:
    forged = await service.http.post(
        "/unsubscribe/Im50Zi0xIg.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb",
        headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"},
    )
    assert forged.status_code == 404
    assert "Dieser Abbestell-Link ist ungültig." in forged.text


def _consent(enterprise_id: str, contact_id: str, *, given: bool) -> CloudEvent[Any]:
    """`contact.consent_changed` as intake publishes it."""
    change = ContactConsentChanged(
        enterprise_id=enterprise_id,
        contact_id=contact_id,
        email_consent=given,
        reason="recorded by staff" if given else "notification.unsubscribed",
    )
    return new_event(change, service="intake", subject=enterprise_id)


def _with_id(notification_id: str) -> Any:
    return lambda message: f"<{notification_id}." in str(message["Message-ID"])


def _ids(messages: list[EmailMessage]) -> str:
    return " ".join(str(m["Message-ID"]) for m in messages)


async def test_withdrawn_consent_stops_queued_and_later_follow_ups_not_transactional_email(
    kafka_bootstrap: str, mongo_uri: str, producer: AIOKafkaProducer, smtp_sink: SmtpSink
) -> None:
    # Retries minutes away: a greylisted delivery then waits in `queued`, not yet due,
    # when the opt-out arrives (a request itself is always due at once).
    settings = notification_settings(
        kafka_bootstrap,
        mongo_uri,
        smtp_sink.port,
        notification_retry_base_seconds=240,
        notification_retry_max_seconds=480,
    )
    recipient, enterprise_id, contact_id = address("consent"), unique("ent"), unique("contact")

    def request(category: NotificationCategory) -> CloudEvent[Any]:
        return requested(
            recipient=recipient,
            enterprise_id=enterprise_id,
            contact_id=contact_id,
            category=category,
        )

    async with run_service(settings) as service:
        smtp_sink.fail_next(2, 451, "4.7.1 Greylisted, try again later")
        queued_followup = request(NotificationCategory.FOLLOWUP)
        queued_transactional = request(NotificationCategory.TRANSACTIONAL)
        await publish(producer, queued_followup, queued_transactional)

        async def waiting_for_a_retry() -> bool:
            items = await service.notifications(enterprise_id)
            return len(items) == 2 and all(
                i["state"] == "queued" and len(i["attempts"]) == 1 for i in items
            )

        await wait_until(waiting_for_a_retry, timeout=30)
        now = datetime.now(UTC)
        for item in await service.notifications(enterprise_id):
            assert datetime.fromisoformat(item["next_attempt_at"]) > now  # not due yet

        await publish(producer, _consent(enterprise_id, contact_id, given=False))
        async with TopicReader(kafka_bootstrap, NOTIFICATION.name) as reader:
            stopped_id = queued_followup.data.notification_id
            await reader.read_until(lambda r: bool(events_about(r, stopped_id)), timeout=30)
            [stopped] = events_about(reader.records, stopped_id)
            assert types_of([stopped]) == ["notification.suppressed"]
            assert stopped["data"]["reason"] == "no_consent"
            assert stopped["data"]["contact_id"] == contact_id
            states = {i["notification_id"]: i for i in await service.notifications(enterprise_id)}
            assert states[stopped_id]["state"] == "suppressed"
            assert states[stopped_id]["suppression_reason"] == "no_consent"
            assert states[queued_transactional.data.notification_id]["state"] == "queued"
            # The dispatcher's claim (compare-and-set on `queued`) now fails: a lane that
            # had this delivery in an SMTP transaction would drop it before the ".".
            deliveries = DeliveryRepository(service.app.state.runtime.db)
            claimed = await deliveries.claim_many(
                [stopped_id], token=unique("claim"), owner="test", now=datetime.now(UTC)
            )
            assert claimed == set()

            # Later requests: the follow-up is suppressed at once, the transactional sent.
            later_followup = request(NotificationCategory.FOLLOWUP)
            later_transactional = request(NotificationCategory.TRANSACTIONAL)
            await publish(producer, later_followup, later_transactional)
            later_ids = [
                later_followup.data.notification_id,
                later_transactional.data.notification_id,
            ]
            await reader.read_until(
                lambda r: all(events_about(r, n) for n in later_ids), timeout=30
            )
            [refused] = events_about(reader.records, later_followup.data.notification_id)
            [sent] = events_about(reader.records, later_transactional.data.notification_id)
        assert types_of([refused, sent]) == ["notification.suppressed", "notification.sent"]
        assert refused["data"]["reason"] == "no_consent"
        await smtp_sink.wait_for(_with_id(later_transactional.data.notification_id), timeout=30)
        db = service.app.state.runtime.db
        assert await db.payloads.find_one({"_id": later_followup.data.notification_id}) is None
    arrived = [m for m in smtp_sink.messages() if to(recipient)(m)]
    assert len(arrived) == 1, _ids(arrived)  # only the later transactional email
    assert _with_id(later_transactional.data.notification_id)(arrived[0])


async def test_renewed_consent_lifts_the_opt_out_and_the_contacts_own_unsubscribe(
    service: RunningService, producer: AIOKafkaProducer, smtp_sink: SmtpSink, kafka_bootstrap: str
) -> None:
    recipient = address("reconsent")
    first = requested(recipient=recipient)
    enterprise_id, contact_id = first.subject, first.data.contact_id
    assert contact_id is not None
    await publish(producer, first)
    [message] = await smtp_sink.wait_for(to(recipient), timeout=30)
    path = _unsubscribe_path(message.get_body(("plain",)).get_content())
    assert (await service.http.post(path)).status_code == 200

    db = service.app.state.runtime.db
    stored = await db.deliveries.find_one({"_id": first.data.notification_id})
    unsubscribe = await db.suppressions.find_one({"_id": stored["recipient_hash"]})
    assert unsubscribe["reason"] == "unsubscribed"
    # Entries of the reasons that are never lifted, naming the same contact (nothing
    # writes such an origin today; they must stay all the same).
    kept = [unique("bounce-hash"), unique("erased-hash")]
    for entry_id, reason in zip(kept, ["hard_bounce", "erased"], strict=True):
        await db.suppressions.insert_one(
            {"_id": entry_id, "reason": reason, "origin": {"contact_id": contact_id}}
        )

    # Intake turns the unsubscribe into lost consent; staff later record it again
    # (one firm: one partition, in this order).
    await publish(producer, _consent(enterprise_id, contact_id, given=False))
    await publish(producer, _consent(enterprise_id, contact_id, given=True))

    async def lifted() -> bool:
        return await db.suppressions.find_one({"_id": stored["recipient_hash"]}) is None

    await wait_until(lifted, timeout=30)
    assert await db.opted_out_contacts.find_one({"_id": contact_id}) is None
    assert {d["_id"] async for d in db.suppressions.find({"_id": {"$in": kept}})} == set(kept)

    later = requested(recipient=recipient, enterprise_id=enterprise_id, contact_id=contact_id)
    await publish(producer, later)
    await smtp_sink.wait_for(_with_id(later.data.notification_id), timeout=30)
    async with TopicReader(kafka_bootstrap, NOTIFICATION.name) as reader:
        later_id = later.data.notification_id
        await reader.read_until(lambda r: bool(events_about(r, later_id)), timeout=30)
        assert types_of(events_about(reader.records, later_id)) == ["notification.sent"]


async def test_erasing_a_contact_forgets_them_and_suppresses_their_address(
    service: RunningService, producer: AIOKafkaProducer, smtp_sink: SmtpSink, kafka_bootstrap: str
) -> None:
    recipient = address("erase")
    first = requested(recipient=recipient, recipient_name="Erika Mustermann")
    await publish(producer, first)
    await smtp_sink.wait_for(to(recipient), timeout=30)

    async def sent() -> bool:
        items = await service.notifications(first.subject)
        return bool(items) and items[0]["state"] == "sent"

    await wait_until(sent, timeout=30)
    contact_id = first.data.contact_id
    assert contact_id is not None
    erased = ContactErased(enterprise_id=first.subject, contact_id=contact_id)
    await publish(producer, new_event(erased, service="intake", subject=first.subject))

    async def forgotten() -> bool:
        items = await service.notifications(first.subject)
        return items[0]["recipient"] is None

    await wait_until(forgotten, timeout=30)
    db = service.app.state.runtime.db
    notification_id = first.data.notification_id
    assert await db.payloads.find_one({"_id": notification_id}) is None
    stored = await db.deliveries.find_one({"_id": notification_id})
    assert recipient not in repr(stored)
    assert "Erika" not in repr(stored)
    assert recipient not in repr(
        await db.attempts.find({"notification_id": notification_id}).to_list()
    )
    assert stored["recipient_hash"] in {d["_id"] async for d in db.suppressions.find()}

    # A new request to that address (even without the contact id) sends nothing.
    later = requested(recipient=recipient, enterprise_id=first.subject, contact_id="someone-else")
    await publish(producer, later)
    async with TopicReader(kafka_bootstrap, NOTIFICATION.name) as reader:
        later_id = later.data.notification_id
        await reader.read_until(lambda r: bool(events_about(r, later_id)), timeout=30)
        [suppressed] = events_about(reader.records, later_id)
    assert suppressed["data"]["reason"] == "erased"
    assert len([m for m in smtp_sink.messages() if to(recipient)(m)]) == 1


async def test_the_delivery_log_needs_a_staff_token(service: RunningService) -> None:
    anonymous = await service.http.get("/api/v1/notifications", params={"enterprise_id": "x"})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    missing = await service.http.get("/api/v1/notifications", headers=service.staff())
    assert missing.status_code == 422


@pytest.mark.parametrize(
    ("mark", "reason"),
    [("opted_out_contacts", "no_consent"), ("erased_contacts", "erased")],
)
async def test_a_delivery_queued_while_the_contact_was_being_stopped_is_not_sent(
    service: RunningService,
    smtp_sink: SmtpSink,
    kafka_bootstrap: str,
    mark: str,
    reason: str,
) -> None:
    # The request and the opt-out (or erasure) come from different topics and commit in
    # separate transactions: the request may be queued after the handler looked for the
    # contact's deliveries. Arranged here directly: the contact's marker is in place,
    # and a delivery for them is queued as the request handler would have queued it.
    runtime = service.app.state.runtime
    request = requested(recipient=address("race"), contact_id=unique("contact"))
    await runtime.db[mark].insert_one({"_id": request.data.contact_id})
    document, payload = new_delivery(
        request.data,
        event_id=str(request.id),
        recipient_hash="not-on-the-list",
        message_id=f"<{request.data.notification_id}@example.com>",
        now=datetime.now(UTC),
    )
    deliveries = DeliveryRepository(runtime.db)
    await deliveries.collection.insert_one(document)
    await deliveries.payloads.insert_one(payload)
    service.app.state.dispatcher.nudge()

    notification_id = request.data.notification_id
    async with TopicReader(kafka_bootstrap, NOTIFICATION.name) as reader:
        await reader.read_until(lambda r: bool(events_about(r, notification_id)), timeout=30)
        [event] = events_about(reader.records, notification_id)
    assert types_of([event]) == ["notification.suppressed"]
    assert event["data"]["reason"] == reason
    stored = await deliveries.get(notification_id)
    assert stored is not None
    assert stored["state"] == "suppressed"
    kept = await deliveries.payloads.find_one({"_id": notification_id})
    assert (kept is None) == (reason == "erased")  # an erased contact's data is gone
    assert not [m for m in smtp_sink.messages() if to(request.data.recipient)(m)]
