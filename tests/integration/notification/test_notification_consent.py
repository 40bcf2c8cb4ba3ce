"""Consent: the unsubscribe link, erasure of a contact, and who may read the delivery log."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiokafka import AIOKafkaProducer

from crm_devstack import SmtpSink
from crm_shared.contracts import new_event
from crm_shared.contracts.lifecycle import ContactErased
from crm_shared.contracts.topics import NOTIFICATION
from crm_shared.contracts.vocabulary import Language
from support import TopicReader, wait_until

from .conftest import RunningService, address, events_about, publish, requested, to, types_of

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
