"""FastStream Kafka broker factory and the outbox relay's publisher."""

import asyncio
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker

from crm_shared.settings import ServiceSettings


def create_broker(settings: ServiceSettings, *, service: str) -> KafkaBroker:
    """A broker whose producer is idempotent with acks=all (no loss, no duplicates on retry)."""
    suffix = f"-{settings.kafka_client_id_suffix}" if settings.kafka_client_id_suffix else ""
    return KafkaBroker(
        settings.kafka_servers,
        client_id=f"crm-{service}{suffix}",
        enable_idempotence=True,
        acks="all",
        # Enough in-flight batches for throughput; the idempotent producer keeps them in order.
        linger_ms=5,
        graceful_timeout=settings.shutdown_grace_seconds,
        logger=None,
    )


def consumer_group(service: str, suffix: str = "") -> str:
    """`crm-<service>`, shared by the service's replicas; a suffix separates whole stacks."""
    return f"crm-{service}-{suffix}" if suffix else f"crm-{service}"


class BrokerRecordPublisher:
    """Publishes outbox records through the broker's producer, all in flight at once."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def publish_records(self, records: Sequence[dict[str, Any]]) -> None:
        futures = [
            await self._broker.publish(
                bytes(record["value"]),
                topic=record["topic"],
                key=record["key"].encode(),
                headers=dict(record["headers"]),
                no_confirm=True,
            )
            for record in records
        ]
        # Any failure re-raises: the batch stays claimed and is published again.
        await asyncio.gather(*futures)
