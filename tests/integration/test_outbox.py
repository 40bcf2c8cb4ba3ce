"""Transactional outbox and relay against the real MongoDB-compatible server and Kafka."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiokafka import ConsumerRecord
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from crm_shared.contracts.lifecycle import EnterpriseUpdated, FieldChange
from crm_shared.contracts.topics import LIFECYCLE
from crm_shared.kafka.broker import BrokerRecordPublisher, create_broker
from crm_shared.kafka.relay import OutboxRelay, RelayConfig
from crm_shared.mongo.client import create_mongo_client
from crm_shared.mongo.outbox import Outbox
from crm_shared.mongo.unit_of_work import Tx, UnitOfWork
from support import TopicReader, event_ids, service_settings, unique, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]


def _sequenced(key: str, seq: int) -> EnterpriseUpdated:
    return EnterpriseUpdated(enterprise_id=key, changes={"seq": FieldChange(old=seq - 1, new=seq)})


def _seq(record: ConsumerRecord[bytes, bytes]) -> int:
    return json.loads(record.value)["data"]["changes"]["seq"]["new"]


@pytest_asyncio.fixture
async def mongo(mongo_uri: str) -> AsyncIterator[AsyncMongoClient]:
    client = create_mongo_client(mongo_uri, app_name="tests")
    yield client
    await client.close()


@pytest_asyncio.fixture
async def db(mongo: AsyncMongoClient) -> AsyncIterator[AsyncDatabase]:
    name = unique("t_outbox").replace("-", "_")
    yield mongo[name]
    await mongo.drop_database(name)


async def _write_events(uow: UnitOfWork, keys: list[str], per_key: int, per_tx: int = 50) -> None:
    """Events seq 1..per_key for each key, interleaved across keys, `per_tx` per transaction."""
    pending = [(key, seq) for seq in range(1, per_key + 1) for key in keys]
    for start in range(0, len(pending), per_tx):
        chunk = pending[start : start + per_tx]

        async def work(tx: Tx, chunk: list[tuple[str, int]] = chunk) -> None:
            for key, seq in chunk:
                tx.emit(_sequenced(key, seq), subject=key)

        await uow.run(work)


async def _drain(db: AsyncDatabase, kafka_bootstrap: str, mongo_uri: str) -> int:
    """Run one relay until the outbox is empty; the number of events it published."""
    broker = create_broker(service_settings(kafka_bootstrap, mongo_uri), service="intake")
    await broker.start()
    try:
        relay = OutboxRelay(db, BrokerRecordPublisher(broker), service="intake")
        async with asyncio.timeout(60):
            return await relay.drain()
    finally:
        await broker.stop()


def _assert_in_order_per_key(records: list[ConsumerRecord[bytes, bytes]], per_key: int) -> None:
    """Each key's first sightings run 1..per_key; any repeat is a redelivery of a seen id."""
    seen: set[str] = set()
    first_seqs: dict[str, list[int]] = defaultdict(list)
    for record, event_id in zip(records, event_ids(records), strict=True):
        if event_id in seen:
            continue
        seen.add(event_id)
        first_seqs[record.key.decode()].append(_seq(record))
    for key, seqs in first_seqs.items():
        assert seqs == list(range(1, per_key + 1)), f"{key} out of order: {seqs[:20]}…"


async def test_state_and_events_commit_together_or_not_at_all(db: AsyncDatabase, mongo) -> None:
    uow = UnitOfWork(mongo, db, service="intake")
    await uow.outbox.ensure_indexes()

    async def change(tx: Tx) -> None:
        await db.firms.insert_one({"_id": "kept"}, session=tx.session)
        tx.emit(_sequenced("kept", 1), subject="kept")

    async def change_then_fail(tx: Tx) -> None:
        await db.firms.insert_one({"_id": "rolled-back"}, session=tx.session)
        tx.emit(_sequenced("rolled-back", 1), subject="rolled-back")
        raise ValueError("validation failed after the write")

    await uow.run(change)
    with pytest.raises(ValueError, match="validation failed"):
        await uow.run(change_then_fail)

    assert await db.firms.distinct("_id") == ["kept"]
    assert [event["key"] for event in await uow.outbox.events()] == ["kept"]


async def test_a_transactions_events_are_one_record_published_in_their_order(
    db: AsyncDatabase, mongo, kafka_bootstrap: str, mongo_uri: str
) -> None:
    uow = UnitOfWork(mongo, db, service="intake")
    await uow.outbox.ensure_indexes()
    prefix = unique("one-record")
    keys = [f"{prefix}-a", f"{prefix}-b"]

    async def change(tx: Tx) -> None:
        for seq in (1, 2, 3):
            for key in keys:
                tx.emit(_sequenced(key, seq), subject=key)

    await uow.run(change)
    [record] = await db.outbox.find({}).to_list()
    assert (record["count"], record["keys"]) == (6, keys)
    assert await uow.outbox.unpublished_count() == 6

    assert await _drain(db, kafka_bootstrap, mongo_uri) == 6
    assert (await uow.outbox.unpublished_count(), await uow.outbox.published_count()) == (0, 6)
    async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as reader:
        await reader.read_until(lambda _: len(reader.keyed(prefix)) >= 6)
    _assert_in_order_per_key(reader.keyed(prefix), per_key=3)


async def test_outbox_refuses_writes_outside_a_transaction(db: AsyncDatabase, mongo) -> None:
    uow = UnitOfWork(mongo, db, service="intake")
    async with mongo.start_session() as session:
        with pytest.raises(RuntimeError, match="inside a transaction"):
            await uow.outbox.add(session, [])


async def test_relay_publishes_every_event_in_order_per_key(
    db: AsyncDatabase, mongo, kafka_bootstrap: str, mongo_uri: str
) -> None:
    uow = UnitOfWork(mongo, db, service="intake")
    await uow.outbox.ensure_indexes()
    prefix = unique("order")
    keys = [f"{prefix}-{i}" for i in range(8)]
    await _write_events(uow, keys, per_key=40)
    assert await _drain(db, kafka_bootstrap, mongo_uri) == 320

    assert await Outbox(db).published_count() == 320
    assert await Outbox(db).unpublished_count() == 0
    async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as reader:
        await reader.read_until(lambda _: len(reader.keyed(prefix)) >= 320)
    mine = reader.keyed(prefix)
    assert len(mine) == 320
    assert len(set(event_ids(mine))) == 320
    _assert_in_order_per_key(mine, per_key=40)
    headers = dict(mine[0].headers)
    assert headers["content-type"] == b"application/cloudevents+json; charset=utf-8"


async def test_two_relays_together_publish_each_event_once(
    db: AsyncDatabase, mongo, kafka_bootstrap: str, mongo_uri: str
) -> None:
    uow = UnitOfWork(mongo, db, service="intake")
    await uow.outbox.ensure_indexes()
    prefix = unique("pair")
    keys = [f"{prefix}-{i}" for i in range(5)]
    await _write_events(uow, keys, per_key=100)
    broker = create_broker(service_settings(kafka_bootstrap, mongo_uri), service="intake")
    await broker.start()
    stop = asyncio.Event()
    config = RelayConfig(batch_size=50, poll_seconds=0.05)
    relays = [
        OutboxRelay(db, BrokerRecordPublisher(broker), service="intake", config=config)
        for _ in range(2)
    ]
    tasks = [asyncio.create_task(relay.run(stop)) for relay in relays]
    try:
        await wait_until(lambda: _published(db, 500), timeout=60)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await broker.stop()

    async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as reader:
        await reader.read_until(lambda _: len(reader.keyed(prefix)) >= 500)
        await reader.poll()
    mine = reader.keyed(prefix)
    assert len(mine) == 500, "one relay holds the lease, so nothing is sent twice"
    _assert_in_order_per_key(mine, per_key=100)


async def _published(db: AsyncDatabase, at_least: int) -> bool:
    return await Outbox(db).published_count() >= at_least


def _relay_process(database: str, kafka_bootstrap: str, mongo_uri: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CRM_MONGO_URI": mongo_uri,
        "CRM_OUTBOX_BATCH_SIZE": "200",
        "CRM_OUTBOX_LEASE_SECONDS": "2",
        "CRM_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "crm_shared.cli.relay", "--database", database], env=env
    )


async def test_relay_killed_mid_publish_loses_nothing(
    db: AsyncDatabase, mongo, kafka_bootstrap: str, mongo_uri: str
) -> None:
    uow = UnitOfWork(mongo, db, service="intake")
    await uow.outbox.ensure_indexes()
    prefix = unique("kill")
    keys = [f"{prefix}-{i}" for i in range(25)]
    await _write_events(uow, keys, per_key=200, per_tx=250)  # 5,000 events

    async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as reader:
        relay = _relay_process(db.name, kafka_bootstrap, mongo_uri)
        try:
            await reader.read_until(lambda _: len(reader.keyed(prefix)) >= 1000, timeout=120)
        finally:
            relay.send_signal(signal.SIGKILL)
            relay.wait()
        unpublished = await Outbox(db).unpublished_count()
        assert unpublished > 0, (
            "the relay was killed after it had finished: the test proves nothing"
        )

        restarted = _relay_process(db.name, kafka_bootstrap, mongo_uri)
        try:
            await reader.read_until(
                lambda _: len(set(event_ids(reader.keyed(prefix)))) >= 5000, timeout=180
            )
            await wait_until(lambda: _published(db, 5000), timeout=60)
        finally:
            restarted.send_signal(signal.SIGTERM)
            assert restarted.wait(timeout=30) == 0
        await reader.poll()

    mine = reader.keyed(prefix)
    ids = event_ids(mine)
    expected = {event["event_id"] for event in await Outbox(db).events()}
    assert len(expected) == 5000
    assert set(ids) == expected
    _assert_in_order_per_key(mine, per_key=200)
    print(f"\nrelay SIGKILL: 5000 events, {len(ids) - len(set(ids))} redelivered, 0 lost")


async def test_erasing_a_contact_scrubs_the_firms_stored_events(db: AsyncDatabase, mongo) -> None:
    from crm_shared.contracts.followup import NotificationRequested
    from crm_shared.contracts.lifecycle import ContactAdded

    uow = UnitOfWork(mongo, db, service="followup")
    await uow.outbox.ensure_indexes()

    async def remember(tx: Tx) -> None:
        tx.emit(
            ContactAdded(enterprise_id="e1", contact_id="c1", full_name="Lena Vogel",
                         email="lena.vogel@example.com"),
            subject="e1",
        )  # fmt: skip
        tx.emit(
            NotificationRequested(notification_id="n1", enterprise_id="e1", contact_id="c1",
                                  recipient="lena.vogel@example.com", recipient_name="Lena Vogel",
                                  template="welcome", category="followup"),
            subject="e1",
        )  # fmt: skip
        tx.emit(_sequenced("e2", 1), subject="e2")

    await uow.run(remember)

    async def erase(tx: Tx) -> int:
        return await uow.outbox.erase_contact(tx.session, "e1", "c1")

    assert await uow.run(erase) == 2
    events = await uow.outbox.events()
    stored = b" ".join(bytes(event["value"]) for event in events)
    assert b"lena" not in stored.lower()
    assert b"Vogel" not in stored
    assert len(events) == 3, "events are scrubbed, not deleted"
    other_firm = [json.loads(bytes(e["value"])) for e in events if e["key"] == "e2"]
    assert other_firm[0]["data"]["changes"]["seq"]["new"] == 1, "another firm's event is kept"
