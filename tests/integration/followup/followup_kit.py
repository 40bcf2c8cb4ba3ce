"""Shared by follow-up's integration tests: a movable clock, an in-process service,
lifecycle events published the way intake publishes them, and direct seeding."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from pymongo.asynchronous.database import AsyncDatabase

from crm_followup.bootstrap import bootstrap
from crm_followup.service.dispatcher import Dispatcher
from crm_followup.settings import FollowupSettings
from crm_shared.contracts import EventData, new_event, utcnow
from crm_shared.mongo.outbox import Outbox
from support import unique

ADMIN_TOKEN = "followup-tests-admin-token"


class MovableClock:
    """Follow-up's "now": real time plus an offset the test moves."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def set(self, instant: datetime) -> None:
        self.offset = instant - utcnow()

    def reset(self) -> None:
        self.offset = timedelta(0)


def followup_settings(kafka: str, mongo: str, **overrides: Any) -> FollowupSettings:
    values: dict[str, Any] = {
        "env": "test",
        "kafka_bootstrap_servers": kafka,
        "mongo_uri": mongo,
        "followup_database": unique("t_followup").replace("-", "_"),
        "bootstrap_admin_token": ADMIN_TOKEN,
        "consumer_retry_base_seconds": 0.05,
        "outbox_poll_seconds": 0.05,
        "followup_dispatch_poll_seconds": 0.1,
        "log_json": False,
        **overrides,
    }
    return FollowupSettings(_env_file=None, **values)


@dataclass
class RunningFollowup:
    settings: FollowupSettings
    clock: MovableClock
    db: AsyncDatabase
    dispatcher: Dispatcher
    http: httpx.AsyncClient


@contextlib.asynccontextmanager
async def running_followup(
    kafka: str, mongo: str, **overrides: Any
) -> AsyncIterator[RunningFollowup]:
    """The whole service in this process (consumers, dispatcher, relay, HTTP app)."""
    settings = followup_settings(kafka, mongo, **overrides)
    clock = MovableClock()
    app = bootstrap(settings, clock=clock)
    service = app.state.followup
    async with service.runtime.lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://followup.test") as http:
            try:
                yield RunningFollowup(settings, clock, service.runtime.db, service.dispatcher, http)
            finally:
                await service.runtime.mongo.drop_database(settings.followup_database)


class Intake:
    """Publishes lifecycle events as intake does: CloudEvents keyed by the enterprise id."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def publish(self, data: EventData, *, time: datetime | None = None) -> str:
        subject = data.enterprise_id  # type: ignore[attr-defined]
        service = "intake" if data.topic.name.startswith("crm.enterprise") else "notification"
        event = new_event(data, service=service, subject=subject, time=time)
        await self.producer.send_and_wait(data.topic.name, event.to_json(), key=subject.encode())
        return str(event.id)


async def followups_of(db: AsyncDatabase, enterprise_id: str, **query: Any) -> list[dict[str, Any]]:
    return await db.followups.find({"enterprise_id": enterprise_id, **query}).to_list()


async def outbox_events(db: AsyncDatabase, subject: str, type_suffix: str) -> list[dict[str, Any]]:
    import json

    stored = await Outbox(db).events(key=subject)
    events = [json.loads(bytes(e["value"])) for e in stored]
    return [e for e in events if e["type"].endswith(type_suffix)]


def at_utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


async def seed_due_followups(
    db: AsyncDatabase, count: int, *, due_at: datetime, prefix: str | None = None
) -> list[str]:
    """`count` due welcome follow-ups, each to its own consenting contact, inserted directly.

    Inserting skips the consumers: these tests are about the dispatcher alone.
    """
    from crm_followup.adapters.documents import contact_document, firm_document, followup_document
    from crm_followup.adapters.store import FollowupStore
    from crm_followup.domain.model import Contact, Firm, Followup
    from crm_shared.contracts.vocabulary import NotificationCategory

    prefix = prefix or unique("seed")
    await FollowupStore(db).ensure_indexes()
    firms, contacts, followups = [], [], []
    for n in range(count):
        firm_id, contact_id = f"{prefix}-ent-{n}", f"{prefix}-con-{n}"
        firms.append(firm_document(Firm(id=firm_id, name=f"Firm {n}", country="DE")))
        contacts.append(
            contact_document(
                Contact(
                    id=contact_id, enterprise_id=firm_id, full_name=f"Contact {n}",
                    email=f"{contact_id}@example.com", email_consent=True, is_primary=True,
                )
            )
        )  # fmt: skip
        followups.append(
            {
                **followup_document(
                    Followup(
                        id=f"welcome:{contact_id}", enterprise_id=firm_id, rule="welcome",
                        template="welcome", category=NotificationCategory.FOLLOWUP,
                        audience="contact", due_at=due_at, contact_id=contact_id,
                    )
                ),
                "created_at": due_at,
            }
        )  # fmt: skip
    for collection, docs in (("firms", firms), ("contacts", contacts), ("followups", followups)):
        for start in range(0, len(docs), 5000):
            await db[collection].insert_many(docs[start : start + 5000], ordered=False)
    return [doc["_id"] for doc in followups]


def request_events_by_followup(
    records: list[Any], wanted: set[str]
) -> dict[str, list[dict[str, Any]]]:
    import json

    found: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        event = json.loads(record.value)
        followup_id = event["data"].get("followup_id")
        if followup_id in wanted:
            found.setdefault(followup_id, []).append(event)
    return found
