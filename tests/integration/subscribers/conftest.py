"""Fixtures for the subscriber tests: a real webhook receiver, the webhook service, a producer."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from crm_shared.contracts import CloudEvent
from crm_shared.contracts.topics import FOLLOWUP, LIFECYCLE, NOTIFICATION
from crm_shared.kafka.broker import consumer_group
from crm_shared.mongo.outbox import stored_event
from support import unique, wait_until

from .receiver import ADMIN_TOKEN, Receiver, WebhookService, free_port


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


# Fast retries, and a subscription is disabled after 8 failed attempts in a row: more than a
# `/flaky/` receiver ever produces for the 3 events a test sends it, fewer than a `/down/` one.
SERVICE_ENV = {
    "CRM_ENV": "test",
    "CRM_BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
    "CRM_WEBHOOKS_RETRY_BASE_SECONDS": "0.2",
    "CRM_WEBHOOKS_RETRY_MAX_SECONDS": "1",
    "CRM_WEBHOOKS_MAX_ATTEMPTS": "5",
    "CRM_WEBHOOKS_DISABLE_AFTER_FAILURES": "8",
    "CRM_WEBHOOKS_POLL_SECONDS": "0.1",
    "CRM_WEBHOOKS_TIMEOUT_SECONDS": "5",
    "CRM_LOG_LEVEL": "WARNING",
}


async def caught_up(kafka_bootstrap: str) -> None:
    """Wait until the relay has consumed what the session published before it started, so
    older events of other tests cannot reach the subscriptions a test creates next."""
    topics = [LIFECYCLE.name, FOLLOWUP.name, NOTIFICATION.name]
    reader = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await reader.start()
    await admin.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in range(LIFECYCLE.partitions)]
        end = await reader.end_offsets(partitions)

        async def consumed() -> bool:
            committed = await admin.list_consumer_group_offsets(consumer_group("webhooks"))
            return all(
                (committed[tp].offset if tp in committed else 0) >= end[tp] for tp in partitions
            )

        await wait_until(consumed, timeout=120, interval=0.3)
    finally:
        await admin.close()
        await reader.stop()


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "crm_webhooks.entrypoints.main"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def webhook_service(
    kafka_bootstrap: str, mongo_uri: str, kafka_topics: list[str]
) -> AsyncIterator[WebhookService]:
    port = free_port()
    database = unique("t_webhooks").replace("-", "_")
    env = {
        **os.environ,
        **SERVICE_ENV,
        "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CRM_MONGO_URI": mongo_uri,
        "CRM_WEBHOOKS_PORT": str(port),
        "CRM_WEBHOOKS_DATABASE": database,
    }
    process = _start(env)
    service = WebhookService(f"http://127.0.0.1:{port}", database, process)
    try:
        async with httpx.AsyncClient(base_url=service.base, timeout=5) as http:

            async def ready() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"crm-webhooks exited: {process.stdout.read()}")  # type: ignore[union-attr]
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(ready, timeout=90, interval=0.3)
        await caught_up(kafka_bootstrap)
        yield service
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    # Failed attempts are warnings; a logged exception means the service itself went wrong.
    assert '"exception":' not in output, output


@pytest_asyncio.fixture(loop_scope="session")
async def publish(
    kafka_bootstrap: str,
) -> AsyncIterator[Callable[[CloudEvent[Any]], Awaitable[None]]]:
    """Publish an event on the lifecycle topic as the outbox relay would (key and headers)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()

    async def send(event: CloudEvent[Any]) -> None:
        headers = [(k, v.encode()) for k, v in stored_event(event)["headers"]]
        await producer.send_and_wait(
            LIFECYCLE.name, event.to_json(), key=event.subject.encode(), headers=headers
        )

    yield send
    await producer.stop()
