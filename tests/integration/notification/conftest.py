"""Fixtures for the notification service: the service in-process, a producer of
`notification.requested` events (as follow-up would send them), and readers."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest_asyncio
from aiokafka import AIOKafkaProducer, ConsumerRecord
from fastapi import FastAPI

from crm_devstack import SmtpSink
from crm_notification.bootstrap import bootstrap
from crm_notification.settings import NotificationSettings
from crm_shared.contracts import CloudEvent, EventData, new_event
from crm_shared.contracts.followup import NotificationRequested
from crm_shared.contracts.vocabulary import Language, NotificationCategory
from support import unique

ADMIN_TOKEN = "notification-tests-admin-token"
PUBLIC_BASE_URL = "https://notify.example.com"


def notification_settings(
    kafka_bootstrap: str, mongo_uri: str, smtp_port: int, **overrides: Any
) -> NotificationSettings:
    values: dict[str, Any] = {
        "env": "test",
        "kafka_bootstrap_servers": kafka_bootstrap,
        "mongo_uri": mongo_uri,
        "notification_database": unique("t_notification").replace("-", "_"),
        "smtp_port": smtp_port,
        "public_base_url": PUBLIC_BASE_URL,
        "mail_from": "Warm Yang <desk@example.com>",
        "bootstrap_admin_token": ADMIN_TOKEN,
        "consumer_retry_base_seconds": 0.05,
        "outbox_poll_seconds": 0.05,
        "outbox_lease_seconds": 2,
        "notification_poll_seconds": 0.1,
        "notification_lease_seconds": 2,
        "notification_retry_base_seconds": 0.05,
        "notification_retry_max_seconds": 0.5,
        "smtp_timeout_seconds": 5,
        "log_json": False,
    }
    values |= overrides
    return NotificationSettings(_env_file=None, **values)


@dataclass
class RunningService:
    app: FastAPI
    http: httpx.AsyncClient
    settings: NotificationSettings

    def staff(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    async def notifications(self, enterprise_id: str) -> list[dict[str, Any]]:
        response = await self.http.get(
            "/api/v1/notifications", params={"enterprise_id": enterprise_id}, headers=self.staff()
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]


@contextlib.asynccontextmanager
async def run_service(settings: NotificationSettings) -> AsyncIterator[RunningService]:
    """The whole service (consumers, dispatcher, relay, HTTP) in this event loop."""
    app = bootstrap(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as http:
            yield RunningService(app, http, settings)
    runtime = app.state.runtime
    client = runtime.mongo.__class__(settings.mongo_uri)
    with contextlib.suppress(Exception):
        await client.drop_database(settings.notification_database)
    await client.close()


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    yield producer
    await producer.stop()


@pytest_asyncio.fixture
async def service(
    kafka_bootstrap: str, mongo_uri: str, smtp_sink: SmtpSink
) -> AsyncIterator[RunningService]:
    settings = notification_settings(kafka_bootstrap, mongo_uri, smtp_sink.port)
    async with run_service(settings) as running:
        yield running


def requested(
    *,
    recipient: str,
    enterprise_id: str | None = None,
    template: str = "welcome",
    locale: Language = Language.EN,
    category: NotificationCategory = NotificationCategory.FOLLOWUP,
    context: dict[str, Any] | None = None,
    contact_id: str | None = None,
    recipient_name: str | None = "Anna Weber",
    notification_id: str | None = None,
) -> CloudEvent[NotificationRequested]:
    """A `notification.requested` event as follow-up publishes it."""
    enterprise_id = enterprise_id or unique("ent")
    data = NotificationRequested(
        notification_id=notification_id or unique("ntf"),
        enterprise_id=enterprise_id,
        recipient=recipient,
        recipient_name=recipient_name,
        locale=locale,
        template=template,
        context=context if context is not None else {"enterprise_name": "Müller & Söhne GmbH"},
        category=category,
        contact_id=contact_id or unique("contact"),
        followup_id=unique("fu"),
    )
    return new_event(data, service="followup", subject=enterprise_id)


async def publish(producer: AIOKafkaProducer, *events: CloudEvent[Any]) -> None:
    for event in events:
        data: EventData = event.data
        await producer.send_and_wait(
            data.topic.name,
            event.to_json(),
            key=event.subject.encode(),
            headers=[("content-type", b"application/cloudevents+json; charset=utf-8")],
        )


def address(prefix: str) -> str:
    return f"{unique(prefix)}@example.com"


def to(recipient: str) -> Callable[[EmailMessage], bool]:
    return lambda message: recipient in str(message["To"])


def events_about(
    records: list[ConsumerRecord[bytes, bytes]], notification_id: str
) -> list[dict[str, Any]]:
    found = []
    for record in records:
        event = json.loads(record.value)
        if event["data"].get("notification_id") == notification_id:
            found.append(event)
    return found


def types_of(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].removeprefix("warmyang.").rsplit(".v", 1)[0] for e in events]
