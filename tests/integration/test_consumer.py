"""The idempotent consumer (inbox) and dead letters, through the real broker and database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from crm_shared.contracts import CloudEvent, new_event
from crm_shared.contracts.lifecycle import EnterpriseUpdated, FieldChange, InteractionLogged
from crm_shared.contracts.topics import LIFECYCLE
from crm_shared.kafka import headers as h
from crm_shared.kafka.broker import create_broker
from crm_shared.kafka.consumer import EventConsumer
from crm_shared.mongo.client import create_mongo_client
from crm_shared.mongo.unit_of_work import Tx, UnitOfWork
from support import TopicReader, service_settings, unique, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]


@pytest_asyncio.fixture
async def mongo(mongo_uri: str) -> AsyncIterator[AsyncMongoClient]:
    client = create_mongo_client(mongo_uri, app_name="tests")
    yield client
    await client.close()


@pytest_asyncio.fixture
async def db(mongo: AsyncMongoClient) -> AsyncIterator[AsyncDatabase]:
    name = unique("t_consumer").replace("-", "_")
    yield mongo[name]
    await mongo.drop_database(name)


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    yield producer
    await producer.stop()


class Counting:
    """A consumer whose handler counts applications per enterprise, in the transaction."""

    def __init__(
        self, consumer: EventConsumer, db: AsyncDatabase, *, fail_on: str | None = None
    ) -> None:
        self.db = db
        self.fail_on = fail_on
        consumer.on(EnterpriseUpdated, InteractionLogged)(self.apply)

    async def apply(self, event: CloudEvent[Any], tx: Tx) -> None:
        if event.subject == self.fail_on:
            raise ValueError(f"cannot apply {event.subject}: the rule rejects it")
        await tx.db.effects.update_one(
            {"_id": event.subject}, {"$inc": {"applied": 1}}, upsert=True, session=tx.session
        )

    async def applied(self, key: str) -> int:
        doc = await self.db.effects.find_one({"_id": key})
        return doc["applied"] if doc else 0


def _updated(key: str) -> bytes:
    event = new_event(
        EnterpriseUpdated(enterprise_id=key, changes={"name": FieldChange(old="A", new="B")}),
        service="intake",
        subject=key,
    )
    return event.to_json()


@pytest_asyncio.fixture
async def running(
    db: AsyncDatabase, mongo: AsyncMongoClient, kafka_bootstrap: str, mongo_uri: str, request
) -> AsyncIterator[tuple[Counting, str]]:
    """A started consumer of the lifecycle topic in a fresh group; yields (counter, group)."""
    service = unique("svc")
    settings = service_settings(kafka_bootstrap, mongo_uri)
    broker = create_broker(settings, service=service)
    consumer = EventConsumer(
        LIFECYCLE,
        uow=UnitOfWork(mongo, db, service=service),
        broker=broker,
        service=service,
        max_attempts=3,
        retry_base_seconds=0.01,
        retry_max_seconds=0.05,
    )
    counting = Counting(consumer, db, fail_on=getattr(request, "param", None))
    consumer.subscribe(session_timeout_ms=3000, heartbeat_interval_ms=300)
    await broker.start()
    try:
        yield counting, consumer.group
    finally:
        consumer.stop()
        await broker.stop()


async def test_a_redelivered_event_has_one_effect(running, producer: AIOKafkaProducer) -> None:
    counting, _ = running
    key = unique("firm")
    same_event = _updated(key)
    later = _updated(key)
    for value in (same_event, same_event, later):
        await producer.send_and_wait(LIFECYCLE.name, value, key=key.encode())

    async def both_distinct_events_applied() -> bool:
        return await counting.db.inbox.count_documents({"subject": key}) == 2

    await wait_until(both_distinct_events_applied)
    assert await counting.applied(key) == 2, "three deliveries of two events: two effects"


async def test_invalid_messages_go_to_the_dlq_and_the_partition_moves_on(
    running, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    counting, group = running
    key = unique("firm")
    bad = {
        "not json": b"{this is not json",
        "unknown type": json.dumps({"type": "warmyang.enterprise.exploded.v1"}).encode(),
        "invalid payload": _updated(key).replace(b'"changes"', b'"chunges"'),
    }
    sent = {}
    for label, value in bad.items():
        sent[label] = await producer.send_and_wait(LIFECYCLE.name, value, key=key.encode())
    await producer.send_and_wait(LIFECYCLE.name, _updated(key), key=key.encode())

    await wait_until(lambda: _applied_once(counting, key))

    async with TopicReader(kafka_bootstrap, LIFECYCLE.dlq) as dlq:
        await dlq.read_until(lambda _: len(_ours(dlq.keyed(key), group)) >= 3)
    letters = {int(headers[h.DLQ_OFFSET]): headers for headers in _ours(dlq.keyed(key), group)}
    for label, metadata in sent.items():
        headers = letters[metadata.offset]
        assert headers[h.DLQ_TOPIC] == LIFECYCLE.name, label
        assert headers[h.DLQ_PARTITION] == str(metadata.partition), label
        assert headers[h.DLQ_GROUP] == group, label
        assert headers[h.DLQ_ERROR], label
    assert "not JSON" in letters[sent["not json"].offset][h.DLQ_ERROR]
    assert "unknown event type" in letters[sent["unknown type"].offset][h.DLQ_ERROR]
    assert "data.changes: Field required" in letters[sent["invalid payload"].offset][h.DLQ_ERROR]


async def _applied_once(counting: Counting, key: str) -> bool:
    return await counting.applied(key) == 1


def _ours(records: list[Any], group: str) -> list[dict[str, str]]:
    decoded = [h.decode_headers(r.headers) for r in records]
    return [headers for headers in decoded if headers.get(h.DLQ_GROUP) == group]


@pytest.mark.parametrize("running", ["firm-that-always-fails"], indirect=True)
async def test_an_event_that_keeps_failing_is_dead_lettered_after_its_attempts(
    running, producer: AIOKafkaProducer, kafka_bootstrap: str, db: AsyncDatabase
) -> None:
    counting, group = running
    poison, healthy = "firm-that-always-fails", unique("firm")
    await producer.send_and_wait(LIFECYCLE.name, _updated(poison), key=poison.encode())
    await producer.send_and_wait(LIFECYCLE.name, _updated(healthy), key=healthy.encode())

    await wait_until(lambda: _applied_once(counting, healthy))
    async with TopicReader(kafka_bootstrap, LIFECYCLE.dlq) as dlq:
        await dlq.read_until(lambda _: len(_ours(dlq.keyed(poison), group)) >= 1)
    (headers,) = _ours(dlq.keyed(poison), group)
    assert headers[h.DLQ_ERROR_TYPE] == "ValueError"
    assert headers[h.DLQ_ATTEMPTS] == "3"
    assert "the rule rejects it" in headers[h.DLQ_ERROR]
    assert await counting.applied(poison) == 0, "a failed attempt leaves nothing behind"
    assert await db.inbox.count_documents({"subject": poison}) == 0


def _cli(*args: str, kafka_bootstrap: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    return subprocess.run(
        [sys.executable, "-m", "crm_shared.cli.dlq", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_dlq_cli_lists_and_replays_dead_letters(
    running, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    _, group = running
    key = unique("firm")
    poison = b'{"type": "warmyang.enterprise.updated.v1", "broken": true}'
    await producer.send_and_wait(LIFECYCLE.name, poison, key=key.encode())
    async with TopicReader(kafka_bootstrap, LIFECYCLE.dlq) as dlq:
        await dlq.read_until(lambda _: len(_ours(dlq.keyed(key), group)) >= 1)

    listed = _cli("list", LIFECYCLE.name, kafka_bootstrap=kafka_bootstrap)
    assert listed.returncode == 0, listed.stderr
    entries = [json.loads(line) for line in listed.stdout.splitlines()]
    (mine,) = [e for e in entries if e["key"] == key]
    assert mine["error_type"] == "InvalidEvent"
    assert mine["group"] == group
    assert mine["original"].startswith(f"{LIFECYCLE.name}[")

    replayed = _cli("replay", LIFECYCLE.name, kafka_bootstrap=kafka_bootstrap)
    assert replayed.returncode == 0, replayed.stderr
    assert "replayed " in replayed.stdout
    async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as topic:
        await topic.read_until(lambda _: len(topic.keyed(key)) >= 2)
    assert [r.value for r in topic.keyed(key)] == [poison, poison], "replayed byte for byte"
    assert all(h.DLQ_ERROR not in dict(r.headers) for r in topic.keyed(key))

    again = _cli("replay", LIFECYCLE.name, kafka_bootstrap=kafka_bootstrap)
    assert again.returncode == 0, again.stderr
    assert not any(
        e["key"] == key and e["dlq_offset"] <= mine["dlq_offset"]
        for e in _replayed_entries(again.stdout)
    ), "a second replay sends only dead letters newer than the first"

    unknown = _cli("list", "crm.nonexistent.v1", kafka_bootstrap=kafka_bootstrap)
    assert unknown.returncode != 0
    assert "unknown topic 'crm.nonexistent.v1'" in unknown.stderr


def _replayed_entries(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
