"""crm-replay rewinds a consumer group to a time or an offset, and refuses an active group."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from crm_shared.contracts import new_event
from crm_shared.contracts.lifecycle import EnterpriseStatusChanged
from crm_shared.contracts.topics import LIFECYCLE
from support import unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


PARTITIONS = [TopicPartition(LIFECYCLE.name, p) for p in range(LIFECYCLE.partitions)]


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    yield producer
    await producer.stop()


async def replay(kafka_bootstrap: str, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "crm_shared.cli.replay", "--topic", LIFECYCLE.name, *args,
        env={**os.environ, "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, output.decode()


async def publish(
    producer: AIOKafkaProducer, firm: str, at_ms: int | None = None
) -> tuple[str, int]:
    """Publish an event; return its id and Kafka timestamp (what offsets_for_times looks at)."""
    event = new_event(
        EnterpriseStatusChanged(enterprise_id=firm, from_status="active", to_status="on_hold"),
        service="intake",
        subject=firm,
    )
    sent = await producer.send_and_wait(
        LIFECYCLE.name, event.to_json(), key=firm.encode(), timestamp_ms=at_ms
    )
    return str(event.id), sent.timestamp


async def end_offsets(kafka_bootstrap: str) -> dict[TopicPartition, int]:
    reader = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await reader.start()
    try:
        return await reader.end_offsets(PARTITIONS)
    finally:
        await reader.stop()


async def consume_to(
    consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]
) -> list[ConsumerRecord[bytes, bytes]]:
    records: list[ConsumerRecord[bytes, bytes]] = []
    async with asyncio.timeout(60):
        while True:
            batch = await consumer.getmany(timeout_ms=300)
            records += [r for rs in batch.values() for r in rs]
            assigned = consumer.assignment()
            positions = [await consumer.position(tp) for tp in assigned]
            if len(assigned) == len(PARTITIONS) and all(
                position >= end[tp] for tp, position in zip(assigned, positions, strict=True)
            ):
                return records


async def test_replay_from_a_time_yields_exactly_the_events_after_it(
    kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    firms = [unique("replay-firm") for _ in range(4)]  # spread over several partitions
    before = [await publish(producer, firm) for firm in firms]
    # Timestamps grow along each partition, as the relay's do: the cut lies between the two.
    cut_ms = max(stamp for _, stamp in before) + 1
    cut = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=cut_ms)  # exact
    after = [await publish(producer, firm, max(cut_ms, now_ms())) for firm in firms]
    end = await end_offsets(kafka_bootstrap)
    group = unique("district-replay")

    status, output = await replay(kafka_bootstrap, "--group", group, "--from-time", cut.isoformat())
    assert status == 0, output
    assert f"moved group '{group}'" in output

    # "latest": without the committed offsets crm-replay wrote, this group would read nothing.
    consumer = AIOKafkaConsumer(
        LIFECYCLE.name, bootstrap_servers=kafka_bootstrap, group_id=group,
        auto_offset_reset="latest", enable_auto_commit=False,
        session_timeout_ms=6_000, heartbeat_interval_ms=500,
    )  # fmt: skip
    await consumer.start()
    try:
        records = await consume_to(consumer, end)
        assert all(r.timestamp >= cut_ms for r in records), "an event before the time came back"
        mine = [json.loads(r.value)["id"] for r in records if r.key.decode() in firms]
        assert sorted(mine) == sorted(event_id for event_id, _ in after)

        # While the group has a member, its offsets are not ours to move.
        status, output = await replay(kafka_bootstrap, "--group", group, "--from-offset", "0")
        assert status == 1
        assert f"consumer group '{group}' is active" in output
    finally:
        await consumer.stop()


async def test_replay_from_an_offset_and_dry_run(
    kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    await publish(producer, unique("replay-offset"))
    group = unique("district-offset")
    status, output = await replay(
        kafka_bootstrap, "--group", group, "--from-offset", "1", "--dry-run"
    )
    assert status == 0, output
    assert "would move" in output

    reader = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group)
    await reader.start()
    try:
        assert [await reader.committed(tp) for tp in PARTITIONS] == [None] * len(PARTITIONS)
        status, output = await replay(kafka_bootstrap, "--group", group, "--from-offset", "1")
        assert status == 0, output
        ends = await reader.end_offsets(PARTITIONS)
        committed = [await reader.committed(tp) for tp in PARTITIONS]
        assert committed == [min(1, ends[tp]) for tp in PARTITIONS]  # clamped to what exists
    finally:
        await reader.stop()


async def test_replay_explains_bad_input(kafka_bootstrap: str) -> None:
    status, output = await replay(kafka_bootstrap, "--group", "g", "--from-time", "2026-01-01")
    assert status == 2
    assert "no time zone" in output
