"""Foundation figures: Kafka produce, outbox relay drain, database inserts, inbox consumer.

Baselines, all in this run on the same broker and database:
- raw aiokafka batched produce (the broker's ceiling for the relay's messages);
- raw single inserts into SecantusDB (the relay must drain at least this fast, so it
  never limits intake);
- the database doing the consumer's exact writes in transactions, no Kafka (the inbox
  consumer must reach 0.8× of it), and a bare aiokafka consumer that only reads.
"""

import asyncio
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from bench.harness import BenchEnv, Figure, Stopwatch
from crm_shared.contracts import CloudEvent, new_event
from crm_shared.contracts.lifecycle import EnterpriseUpdated, FieldChange
from crm_shared.contracts.topics import LIFECYCLE
from crm_shared.kafka.broker import BrokerRecordPublisher, create_broker
from crm_shared.kafka.consumer import EventConsumer
from crm_shared.kafka.relay import OutboxRelay, RelayConfig
from crm_shared.mongo.client import create_mongo_client
from crm_shared.mongo.outbox import outbox_record
from crm_shared.mongo.unit_of_work import Tx, UnitOfWork
from crm_shared.settings import ServiceSettings

RELAY_EVENTS = 20_000
PRODUCE_EVENTS = 20_000
INSERTS = 3_000
CONSUMER_EVENTS = 3_000
CONSUMER_ROUNDS = 3
KEYS = 200


def _event(key: str, seq: int) -> CloudEvent[Any]:
    data = EnterpriseUpdated(enterprise_id=key, changes={"seq": FieldChange(old=seq - 1, new=seq)})
    return new_event(data, service="bench", subject=key)


def _events(count: int) -> list[CloudEvent[Any]]:
    prefix = uuid.uuid4().hex[:8]
    return [_event(f"{prefix}-{i % KEYS}", i) for i in range(count)]


async def raw_produce_rate(env: BenchEnv) -> float:
    values = [(e.subject.encode(), e.to_json()) for e in _events(PRODUCE_EVENTS)]
    producer = AIOKafkaProducer(
        bootstrap_servers=env.kafka_bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    try:
        with Stopwatch() as watch:
            futures = [await producer.send(LIFECYCLE.name, v, key=k) for k, v in values]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return watch.rate(len(values))


async def raw_insert_rate(client: AsyncMongoClient, db_name: str) -> float:
    collection = client[db_name]["raw_inserts"]
    docs = [outbox_record([e]) for e in _events(INSERTS)]
    with Stopwatch() as watch:
        for doc in docs:
            await collection.insert_one(doc)
    return watch.rate(len(docs))


async def relay_rate(env: BenchEnv, client: AsyncMongoClient, db_name: str) -> float:
    db = client[db_name]
    uow = UnitOfWork(client, db, service="bench")
    await uow.outbox.ensure_indexes()
    records = [outbox_record([e]) for e in _events(RELAY_EVENTS)]  # one per transaction
    for start in range(0, len(records), 1000):  # loading the backlog is not measured
        await db.outbox.insert_many(records[start : start + 1000])
    settings = ServiceSettings(_env_file=None, kafka_bootstrap_servers=env.kafka_bootstrap)
    broker = create_broker(settings, service="bench")
    await broker.start()
    try:
        relay = OutboxRelay(
            db, BrokerRecordPublisher(broker), service="bench", config=RelayConfig(batch_size=1000)
        )
        with Stopwatch() as watch:
            async with asyncio.timeout(600):
                published = await relay.drain()
    finally:
        await broker.stop()
    assert published == RELAY_EVENTS, published
    return watch.rate(published)


async def _effect(db: Any, event: CloudEvent[Any], session: Any) -> None:
    await db.effects.update_one(
        {"_id": event.subject}, {"$inc": {"applied": 1}}, upsert=True, session=session
    )


async def db_transaction_rate(client: AsyncMongoClient, db_name: str) -> float:
    """The consumer's writes (inbox id + effect) in one transaction each, without Kafka."""
    db = client[db_name]
    events = _events(CONSUMER_EVENTS)
    with Stopwatch() as watch:
        for event in events:
            async with client.start_session() as session, await session.start_transaction():
                await db.inbox.insert_one({"_id": f"raw:{event.id}"}, session=session)
                await _effect(db, event, session)
    return watch.rate(len(events))


async def _publish(env: BenchEnv, events: list[CloudEvent[Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=env.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send(LIFECYCLE.name, e.to_json(), key=e.subject.encode()) for e in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def bare_consumer_rate(env: BenchEnv, total: int) -> float:
    consumer = AIOKafkaConsumer(
        LIFECYCLE.name,
        bootstrap_servers=env.kafka_bootstrap,
        group_id=f"bench-bare-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen = 0
    try:
        with Stopwatch() as watch:
            while seen < total:
                batch = await consumer.getmany(timeout_ms=1000, max_records=100)
                seen += sum(len(records) for records in batch.values())
                await consumer.commit()
    finally:
        await consumer.stop()
    return watch.rate(seen)


async def inbox_consumer_rate(env: BenchEnv, client: AsyncMongoClient, db_name: str) -> float:
    """Our EventConsumer on a fresh group reading the whole topic; the clock starts at its
    first processed event, so group join time is not counted."""
    db = client[db_name]
    settings = ServiceSettings(_env_file=None, kafka_bootstrap_servers=env.kafka_bootstrap)
    service = f"bench-{uuid.uuid4().hex[:6]}"
    broker = create_broker(settings, service=service)
    uow = UnitOfWork(client, db, service=service)
    consumer = EventConsumer(LIFECYCLE, uow=uow, broker=broker, service=service, batch_size=100)
    done = asyncio.Event()
    counter = {"n": 0, "t0": 0.0}
    loop = asyncio.get_running_loop()
    total = await _topic_size(env)

    @consumer.on(EnterpriseUpdated)
    async def apply(event: CloudEvent[Any], tx: Tx) -> None:
        await _effect(tx.db, event, tx.session)

    original = consumer.process

    async def counted(record: Any) -> str:
        if counter["n"] == 0:
            counter["t0"] = loop.time()
        outcome = await original(record)
        counter["n"] += 1
        if counter["n"] >= total:
            done.set()
        return outcome

    consumer.process = counted  # type: ignore[method-assign]
    consumer.subscribe()
    await broker.start()
    try:
        async with asyncio.timeout(900):
            await done.wait()
        elapsed = loop.time() - counter["t0"]
    finally:
        await broker.stop()
    return counter["n"] / elapsed


async def _topic_size(env: BenchEnv) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=env.kafka_bootstrap)
    await consumer.start()
    try:
        from aiokafka import TopicPartition

        parts = [TopicPartition(LIFECYCLE.name, p) for p in range(LIFECYCLE.partitions)]
        begin, end = await consumer.beginning_offsets(parts), await consumer.end_offsets(parts)
        return sum(end[p] - begin[p] for p in parts)
    finally:
        await consumer.stop()


async def run(env: BenchEnv) -> list[Figure]:
    client = create_mongo_client(env.mongo_uri, app_name="bench")
    db_name = f"bench_{uuid.uuid4().hex[:6]}"
    try:
        # Consumers first, while the lifecycle topic holds only their events.
        await _publish(env, _events(CONSUMER_EVENTS))
        total = await _topic_size(env)
        bare = await bare_consumer_rate(env, total)
        # The database baseline brackets each consumer run, so noise on a shared machine
        # hits both sides of a round's ratio alike; the figure is the median round. Each
        # round has its own database: the consumer rereads the same events.
        rounds = []
        for number in range(CONSUMER_ROUNDS):
            round_db = f"{db_name}_{number}"
            before = await db_transaction_rate(client, round_db)
            inbox_round = await inbox_consumer_rate(env, client, round_db)
            after = await db_transaction_rate(client, round_db)
            await client.drop_database(round_db)
            rounds.append((inbox_round, (before + after) / 2))
        ratios = sorted(i / t for i, t in rounds)
        inbox, transactions = sorted(rounds, key=lambda r: r[0] / r[1])[len(rounds) // 2]
        produce = await raw_produce_rate(env)
        inserts = await raw_insert_rate(client, db_name)
        relay = await relay_rate(env, client, db_name)
    finally:
        await client.drop_database(db_name)
        await client.close()
    return [
        Figure("raw aiokafka produce (batched, idempotent)", produce, "msg/s"),
        Figure(
            f"outbox relay draining {RELAY_EVENTS:,} events",
            relay,
            "events/s",
            "SecantusDB single inserts",
            inserts,
            goal="≥ 1.0×",
            note=f"{relay / produce:.2f}× of raw produce",
        ),
        Figure(
            "inbox consumer (transaction per event)",
            inbox,
            "events/s",
            "same writes in raw transactions",
            transactions,
            goal="≥ 0.8×",
            note=f"median of {CONSUMER_ROUNDS} rounds (ratios "
            f"{', '.join(f'{r:.2f}' for r in ratios)}); "
            f"bare aiokafka consumer: {bare:,.0f} msg/s ({inbox / bare:.3f}×)",
        ),
    ]
