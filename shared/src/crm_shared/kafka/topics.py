"""Create every topic and its dead-letter twin (idempotent)."""

import asyncio

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError

from crm_shared.contracts.topics import ALL_TOPICS, DLQ_RETENTION_MS

log = structlog.get_logger(__name__)

TOPIC_ALREADY_EXISTS = TopicAlreadyExistsError.errno


class TopicSetupError(RuntimeError):
    """The broker refused a topic (bad config, too many partitions…): not worth retrying."""


def _wanted(replication_factor: int) -> list[NewTopic]:
    topics = []
    for topic in ALL_TOPICS:
        topics.append(
            NewTopic(
                topic.name,
                num_partitions=topic.partitions,
                replication_factor=replication_factor,
                topic_configs={"retention.ms": str(topic.retention_ms)},
            )
        )
        topics.append(
            NewTopic(
                topic.dlq,
                num_partitions=topic.partitions,
                replication_factor=replication_factor,
                topic_configs={"retention.ms": str(DLQ_RETENTION_MS)},
            )
        )
    return topics


async def ensure_topics(
    bootstrap: str, *, replication_factor: int = 1, wait_seconds: float = 0
) -> list[str]:
    """Create the topics that are missing; return the names created. Waits for the broker."""
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in _wanted(replication_factor) if t.name not in existing]
            created = []
            for topic in missing:
                response = await admin.create_topics([topic])
                # aiokafka returns per-topic error codes instead of raising.
                for name, code, *rest in response.topic_errors:
                    if code == 0:
                        created.append(name)
                    elif code != TOPIC_ALREADY_EXISTS:  # another process created it meanwhile
                        message = rest[0] if rest and rest[0] else f"error code {code}"
                        raise TopicSetupError(f"cannot create topic {name}: {message}")
            return created
        except TopicSetupError:
            raise
        except (KafkaConnectionError, KafkaError, OSError) as error:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            log.info("waiting for Kafka", bootstrap=bootstrap, error=str(error))
            await asyncio.sleep(1)
        finally:
            await admin.close()
