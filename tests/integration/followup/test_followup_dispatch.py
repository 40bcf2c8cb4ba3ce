"""The dispatcher against the real database and broker: replicas, leases, exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from crm_followup.adapters.store import FollowupStore
from crm_followup.domain.calendar import BusinessHours, SendingCalendar
from crm_followup.domain.dispatching import DispatchPolicy
from crm_followup.domain.frequency import FrequencyCap
from crm_followup.domain.planning import Planner
from crm_followup.rules.loader import load_rules
from crm_followup.service.dispatcher import Dispatcher, DispatcherConfig
from crm_followup.service.journal import Journal
from crm_shared.contracts.topics import NOTIFICATION_REQUESTS
from crm_shared.kafka.broker import BrokerRecordPublisher, create_broker
from crm_shared.kafka.relay import OutboxRelay, RelayConfig
from crm_shared.mongo.client import create_mongo_client
from crm_shared.mongo.outbox import Outbox
from crm_shared.mongo.unit_of_work import UnitOfWork
from support import TopicReader, service_settings, unique

from .followup_kit import MovableClock, request_events_by_followup, seed_due_followups

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]

NOW = datetime(2026, 11, 24, 10, tzinfo=UTC)


@pytest_asyncio.fixture
async def database(mongo_uri: str) -> AsyncIterator[str]:
    name = unique("t_followup_dispatch").replace("-", "_")
    yield name
    client = create_mongo_client(mongo_uri, app_name="tests")
    await client.drop_database(name)
    await client.close()


def _replica(
    client: AsyncMongoClient, database: str, clock: MovableClock, *, name: str, lease: float = 60
) -> Dispatcher:
    """One dispatcher replica with its own client, as a separate process would have."""
    db = client[database]
    store = FollowupStore(db)
    rules = load_rules()
    calendar = SendingCalendar(BusinessHours(enabled=False))
    return Dispatcher(
        store, UnitOfWork(client, db, service="followup"), Journal(store),
        Planner(rules, calendar), DispatchPolicy(calendar, FrequencyCap(0)),
        clock=clock, config=DispatcherConfig(batch_size=100, lease_seconds=lease), name=name,
    )  # fmt: skip


async def _publish_outbox(db: AsyncDatabase, kafka_bootstrap: str, mongo_uri: str) -> None:
    broker = create_broker(service_settings(kafka_bootstrap, mongo_uri), service="followup")
    await broker.start()
    try:
        relay = OutboxRelay(
            db,
            BrokerRecordPublisher(broker),
            service="followup",
            config=RelayConfig(batch_size=1000),
        )
        async with asyncio.timeout(120):
            await relay.drain()
    finally:
        await broker.stop()


async def test_two_replicas_dispatch_each_of_2000_exactly_once(
    database: str, mongo_uri: str, kafka_bootstrap: str
) -> None:
    clients = [create_mongo_client(mongo_uri, app_name=f"replica-{n}") for n in range(2)]
    try:
        db = clients[0][database]
        ids = await seed_due_followups(db, 2000, due_at=NOW - timedelta(minutes=5))
        clock = MovableClock()
        clock.set(NOW)
        replicas = [
            _replica(c, database, clock, name=f"replica-{n}") for n, c in enumerate(clients)
        ]
        claimed = await asyncio.gather(*(replica.drain() for replica in replicas))

        assert sum(claimed) == 2000, f"claims per replica: {claimed}"
        assert min(claimed) > 0, "both replicas took part"
        docs = await db.followups.find({"_id": {"$in": ids}}).to_list()
        assert Counter(doc["status"] for doc in docs) == {"dispatched": 2000}
        by_replica = Counter(doc["dispatched_by"] for doc in docs)
        assert set(by_replica) == {"replica-0", "replica-1"}

        await _publish_outbox(db, kafka_bootstrap, mongo_uri)
        wanted = set(ids)
        async with TopicReader(kafka_bootstrap, NOTIFICATION_REQUESTS.name) as topic:
            await topic.read_until(
                lambda records: set(request_events_by_followup(records, wanted)) == wanted,
                timeout=120,
            )
            await topic.poll()  # anything published twice would be here by now
            requests = request_events_by_followup(topic.records, wanted)
        counts = Counter(len(events) for events in requests.values())
        assert counts == {1: 2000}, f"requests per follow-up: {counts}"
    finally:
        for client in clients:
            await client.close()


async def test_a_dead_replicas_claims_are_taken_over_after_the_lease(
    database: str, mongo_uri: str
) -> None:
    client = create_mongo_client(mongo_uri, app_name="tests")
    try:
        db = client[database]
        ids = await seed_due_followups(db, 30, due_at=NOW - timedelta(minutes=5))
        clock = MovableClock()
        clock.set(NOW)
        crashed = _replica(client, database, clock, name="crashed", lease=30)
        survivor = _replica(client, database, clock, name="survivor", lease=30)

        taken = await crashed.claim("crashed:token")  # claims, then "dies" before dispatching
        assert sorted(taken) == sorted(ids)
        assert await survivor.dispatch_once() == 0, "a live lease is respected"

        clock.set(NOW + timedelta(seconds=31))
        assert await survivor.drain() == 30
        docs = await db.followups.find({"_id": {"$in": ids}}).to_list()
        assert {(d["status"], d["dispatched_by"]) for d in docs} == {("dispatched", "survivor")}
        assert all("lease_until" not in d and "claim" not in d for d in docs)

        # The crashed replica wakes up and tries to dispatch what it claimed: nothing happens.
        await crashed.uow.run(lambda tx: crashed._dispatch(tx, taken, "crashed:token"))
        requests = await Outbox(db).events(type="warmyang.notification.requested.v1")
        assert len(requests) == 30
    finally:
        await client.close()
