"""`crm-topics ensure`: every topic and its DLQ exist with their partitions and retention."""

import subprocess
import sys

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from crm_shared.contracts.topics import ALL_TOPICS, DLQ_RETENTION_MS
from crm_shared.kafka.topics import ensure_topics

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]


async def test_a_second_run_creates_nothing(kafka_bootstrap: str) -> None:
    assert await ensure_topics(kafka_bootstrap) == []


async def test_topics_have_their_partitions_and_retention(kafka_bootstrap: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics()}
        resources = [ConfigResource(ConfigResourceType.TOPIC, t.name) for t in ALL_TOPICS]
        resources += [ConfigResource(ConfigResourceType.TOPIC, t.dlq) for t in ALL_TOPICS]
        responses = await admin.describe_configs(resources)
    finally:
        await admin.close()
    retention = {
        name: dict((entry[0], entry[1]) for entry in entries)["retention.ms"]
        for response in responses
        for _, _, _, name, entries in response.resources
    }
    for topic in ALL_TOPICS:
        assert len(described[topic.name]["partitions"]) == topic.partitions
        assert len(described[topic.dlq]["partitions"]) == topic.partitions
        assert retention[topic.name] == str(topic.retention_ms)
        assert retention[topic.dlq] == str(DLQ_RETENTION_MS)


def test_cli_reports_an_unreachable_broker_clearly() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crm_shared.cli.topics", "ensure"],
        env={"CRM_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "PATH": ""},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "cannot reach Kafka at 127.0.0.1:1" in result.stderr
