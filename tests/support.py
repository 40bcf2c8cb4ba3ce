"""Helpers for tests that talk to the real broker and database."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from crm_shared.contracts.topics import topic_named
from crm_shared.settings import ServiceSettings


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def service_settings(kafka_bootstrap: str, mongo_uri: str, **overrides: Any) -> ServiceSettings:
    return ServiceSettings(
        _env_file=None,
        env="test",
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_uri=mongo_uri,
        consumer_retry_base_seconds=0.05,
        **overrides,
    )


async def wait_until(
    condition: Callable[[], Awaitable[bool]], *, timeout: float = 30, interval: float = 0.1
) -> None:
    """Poll `condition` until it holds; fail with a clear message after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(interval)


class TopicReader:
    """Reads a topic from the beginning (no consumer group) and keeps what it has read."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.records: list[ConsumerRecord[bytes, bytes]] = []
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, metadata_max_age_ms=1000
        )

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        partitions = topic_named(self.topic).partitions
        assigned = [TopicPartition(self.topic, p) for p in range(partitions)]
        self._consumer.assign(assigned)
        await self._consumer.seek_to_beginning(*assigned)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def poll(self) -> list[ConsumerRecord[bytes, bytes]]:
        batch = await self._consumer.getmany(timeout_ms=200, max_records=5000)
        new = [record for records in batch.values() for record in records]
        self.records.extend(new)
        return new

    async def read_until(
        self, done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool], *, timeout: float = 60
    ) -> list[ConsumerRecord[bytes, bytes]]:
        async with asyncio.timeout(timeout):
            while not done(self.records):
                await self.poll()
        return self.records

    def keyed(self, prefix: str) -> list[ConsumerRecord[bytes, bytes]]:
        return [r for r in self.records if r.key is not None and r.key.decode().startswith(prefix)]


def event_ids(records: list[ConsumerRecord[bytes, bytes]]) -> list[str]:
    return [json.loads(r.value)["id"] for r in records]
