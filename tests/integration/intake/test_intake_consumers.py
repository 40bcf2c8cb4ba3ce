"""Follow-ups and emails from the other services show on the timeline; an unsubscribe
withdraws consent (once, however often the event arrives) and is announced."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from crm_intake.service.context import IntakeContext
from crm_shared.contracts import CloudEvent, new_event
from crm_shared.contracts.followup import FollowupScheduled
from crm_shared.contracts.notification import NotificationSent, NotificationUnsubscribed
from crm_shared.contracts.topics import FOLLOWUP, LIFECYCLE, NOTIFICATION
from crm_shared.contracts.vocabulary import NotificationCategory
from crm_shared.mongo.outbox import Outbox
from support import TopicReader, wait_until

from .conftest import BASE, create_firm

pytestmark = [pytest.mark.integration]


@pytest_asyncio.fixture(loop_scope="session")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


async def _send(producer: AIOKafkaProducer, topic: str, event: CloudEvent) -> None:
    await producer.send_and_wait(topic, event.to_json(), key=event.subject.encode())


async def test_other_services_events_reach_the_timeline_and_consent(
    client: httpx.AsyncClient,
    ctx: IntakeContext,
    producer: AIOKafkaProducer,
    kafka_bootstrap: str,
) -> None:
    firm = await create_firm(client)
    firm_id, contact_id = firm["id"], firm["contacts"][0]["id"]
    now = datetime.now(UTC)
    scheduled = new_event(
        FollowupScheduled(
            followup_id="fu-1",
            enterprise_id=firm_id,
            rule="welcome",
            template="welcome",
            category=NotificationCategory.FOLLOWUP,
            due_at=now + timedelta(hours=1),
            contact_id=contact_id,
        ),
        service="followup",
        subject=firm_id,
    )
    sent = new_event(
        NotificationSent(
            enterprise_id=firm_id,
            contact_id=contact_id,
            notification_id="n-1",
            template="welcome",
            message_id="<n-1@example.com>",
            sent_at=now,
        ),
        service="notification",
        subject=firm_id,
    )
    unsubscribed = new_event(
        NotificationUnsubscribed(
            enterprise_id=firm_id, contact_id=contact_id, notification_id="n-1"
        ),
        service="notification",
        subject=firm_id,
    )
    await _send(producer, FOLLOWUP.name, scheduled)
    for event in (sent, unsubscribed, unsubscribed):  # a redelivery of the unsubscribe
        await _send(producer, NOTIFICATION.name, event)

    async def learned() -> bool:
        entries = (await client.get(f"{BASE}/{firm_id}/timeline")).json()["entries"]
        return {"followup.scheduled", "notification.sent", "notification.unsubscribed"} <= {
            e["kind"] for e in entries
        }

    await wait_until(learned, timeout=90, interval=0.3)
    contact = (await client.get(f"{BASE}/{firm_id}")).json()["contacts"][0]
    assert contact["email_consent"] is False
    entries = (await client.get(f"{BASE}/{firm_id}/timeline")).json()["entries"]
    assert sum(e["kind"] == "notification.unsubscribed" for e in entries) == 1
    withdrawn = [
        e for e in entries if e["kind"] == "audit" and e["detail"]["action"] == "consent_withdrawn"
    ]
    assert len(withdrawn) == 1
    assert withdrawn[0]["actor"] == "notification:unsubscribe"
    welcome = next(e for e in entries if e["kind"] == "followup.scheduled")
    assert welcome["title"].startswith("follow-up welcome scheduled")

    async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as reader:

        def consent_events(records: list) -> list[dict]:
            events = [json.loads(r.value) for r in records if r.key == firm_id.encode()]
            return [e for e in events if e["type"] == "warmyang.contact.consent_changed.v1"]

        await reader.read_until(lambda records: bool(consent_events(records)))
    [event] = consent_events(reader.records)
    assert event["data"] == {
        "enterprise_id": firm_id,
        "actor": "notification:unsubscribe",
        "contact_id": contact_id,
        "email_consent": False,
        "reason": "unsubscribed from emails",
    }
    stored = await Outbox(ctx.db).events(key=firm_id, type="warmyang.contact.consent_changed.v1")
    assert len(stored) == 1
