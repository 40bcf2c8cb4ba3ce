"""Where the tests' Kafka and MongoDB come from, and client settings that suit tests.

`CRM_TEST_INFRA` picks one of:

- `local`: `crm_devstack` processes (Apache Kafka from Maven jars, SecantusDB) on free
  loopback ports, data in pytest's tmp dir. The default where no Docker engine answers.
- `containers`: testcontainers' Kafka (KRaft) and a MongoDB container initiated as a
  one-node replica set (transactions need one). The default where `docker info` works.
- `external`: whatever `CRM_KAFKA_BOOTSTRAP_SERVERS` and `CRM_MONGO_URI` name. Nothing is
  started or stopped; the tests assume topics may already exist.

Only `local` hands tests a process they may kill and restart (`kafka_node`, `mongo_node`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crm_devstack import KafkaNode, MongoNode

if TYPE_CHECKING:
    from collections.abc import Callable

    from testcontainers.core.container import DockerContainer

INFRA_ENV = "CRM_TEST_INFRA"
KAFKA_ENV = "CRM_KAFKA_BOOTSTRAP_SERVERS"
MONGO_ENV = "CRM_MONGO_URI"

# Images for `containers` mode; overridable where a registry mirror or a pinned image is needed.
KAFKA_IMAGE = os.environ.get("CRM_TEST_KAFKA_IMAGE", "confluentinc/cp-kafka:7.9.0")
MONGO_IMAGE = os.environ.get("CRM_TEST_MONGO_IMAGE", "mongo:8")

# Brokers we start accept sessions this short; a stock broker's floor is 6 s.
_OWN_BROKER_MIN_SESSION_MS = 1000
_TEST_SESSION_MS = 3000
_STOCK_SESSION_MS = 6000


class InfraMode(StrEnum):
    LOCAL = "local"
    CONTAINERS = "containers"
    EXTERNAL = "external"


def docker_engine_answers() -> bool:
    """True when a Docker client exists and an engine answers it (not just the client)."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


@cache
def infra_mode() -> InfraMode:
    chosen = os.environ.get(INFRA_ENV, "").strip().lower()
    if chosen:
        try:
            return InfraMode(chosen)
        except ValueError:
            choices = "|".join(m.value for m in InfraMode)
            raise RuntimeError(f"{INFRA_ENV}={chosen!r}: expected {choices}") from None
    return InfraMode.CONTAINERS if docker_engine_answers() else InfraMode.LOCAL


def required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"{INFRA_ENV}=external needs {name} to be set")
    return value


@dataclass
class Backend:
    """A started (or external) server: its address, and its process when it is ours."""

    address: str
    node: KafkaNode | MongoNode | None = None
    # Stops what this backend started; nothing for `external`.
    closers: list[Callable[[], Any]] = field(default_factory=list)


# -- local processes ---------------------------------------------------------------


async def start_local_kafka(data_dir: Path) -> KafkaNode:
    node = KafkaNode(data_dir)  # its properties allow the short sessions used below
    await node.start(timeout=120)
    return node


async def start_local_mongo(data_dir: Path, *, sync_on_commit: bool = True) -> MongoNode:
    # fsync on commit: tests that kill -9 the server expect acknowledged writes to survive.
    node = MongoNode(data_dir, sync_on_commit=sync_on_commit)
    await node.start(timeout=60)
    return node


# -- containers (only where a Docker engine runs) ----------------------------------


def start_kafka_container() -> tuple[DockerContainer, str]:
    from testcontainers.community.kafka import KafkaContainer

    container = KafkaContainer(KAFKA_IMAGE).with_kraft()
    # testcontainers sets only the offsets topic's replication; transactions and
    # the idempotent producer need the transaction log at one replica too.
    for key, value in {
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_MIN_INSYNC_REPLICAS": "1",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS": str(_OWN_BROKER_MIN_SESSION_MS),
    }.items():
        container.with_env(key, value)
    container.start(timeout=120)
    return container, container.get_bootstrap_server()


def start_mongo_container() -> tuple[DockerContainer, str]:
    from pymongo import MongoClient
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    container = (
        DockerContainer(MONGO_IMAGE)
        .with_command("--replSet rs0 --bind_ip_all")
        .with_exposed_ports(27017)
        .waiting_for(LogMessageWaitStrategy("Waiting for connections").with_startup_timeout(120))
    )
    container.start()
    # The member's own name only has to work inside the container: clients use
    # directConnection, so the mapped host port never has to match it.
    initiate = "rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'localhost:27017'}]})"
    result = container.exec(["mongosh", "--quiet", "--eval", initiate])
    if result.exit_code != 0:
        container.stop()
        raise RuntimeError(f"rs.initiate failed: {result.output.decode(errors='replace')}")
    host, port = container.get_container_host_ip(), container.get_exposed_port(27017)
    uri = f"mongodb://{host}:{port}/?directConnection=true&retryWrites=false"
    client: MongoClient[dict[str, Any]]
    with MongoClient(uri, serverSelectionTimeoutMS=2000) as client:
        deadline = time.monotonic() + 60
        while not client.admin.command("hello").get("isWritablePrimary"):
            if time.monotonic() > deadline:
                container.stop()
                raise RuntimeError("the MongoDB container never became primary")
            time.sleep(0.2)
    return container, uri


async def wait_for_topics(bootstrap: str, names: list[str], timeout: float = 30.0) -> None:
    """Until the broker's metadata lists every name.

    CreateTopics returns once the controller committed the topic; the broker's
    metadata cache (what clients see) catches up a moment later.
    """
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while missing := set(names) - set(await admin.list_topics()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics not visible after {timeout} s: {sorted(missing)}")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


# -- client settings for tests -------------------------------------------------------


def consumer_kwargs(
    bootstrap: str, group_id: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """AIOKafkaConsumer keyword arguments that make group joins and failovers quick.

    A fresh group id per call unless given; reads from the beginning, commits manually.
    """
    own_broker = infra_mode() is not InfraMode.EXTERNAL
    session_ms = _TEST_SESSION_MS if own_broker else _STOCK_SESSION_MS
    kwargs: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "group_id": group_id or f"test-{uuid.uuid4().hex[:12]}",
        "auto_offset_reset": "earliest",
        "enable_auto_commit": False,
        "session_timeout_ms": session_ms,
        "heartbeat_interval_ms": 300,
        "rebalance_timeout_ms": session_ms,
        # New topics and partitions are noticed within a second, not five minutes.
        "metadata_max_age_ms": 1000,
        "request_timeout_ms": 15000,
        "retry_backoff_ms": 100,
    }
    kwargs.update(overrides)
    return kwargs


def producer_kwargs(bootstrap: str, **overrides: Any) -> dict[str, Any]:
    """AIOKafkaProducer keyword arguments as the services use them: idempotent, acks=all."""
    kwargs: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "enable_idempotence": True,
        "acks": "all",
        "request_timeout_ms": 15000,
        "retry_backoff_ms": 100,
    }
    kwargs.update(overrides)
    return kwargs
