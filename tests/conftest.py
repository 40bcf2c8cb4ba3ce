"""Session-wide infrastructure for every test: real Kafka, MongoDB and SMTP.

Nothing starts until a test asks for it, so unit tests pay nothing. See `infra.py`
for `CRM_TEST_INFRA` (local | containers | external).

Fixtures:
    kafka_bootstrap -> str            "host:port" of the session's broker
    kafka_node      -> KafkaNode      the broker process (local mode only; else skip)
    kafka_topics    -> list[str]      every topic and DLQ, created once per session
    mongo_uri       -> str            connection string with retryWrites=false
    mongo_node      -> MongoNode      the database process (local mode only; else skip)
    smtp_sink       -> SmtpSink       in-process SMTP sink; faults reset after each test
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

# `import infra` must work under any pytest import mode (the tests dir is not a package).
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from crm_devstack import KafkaNode, MongoNode, SmtpSink  # noqa: E402
from infra import (  # noqa: E402
    KAFKA_ENV,
    MONGO_ENV,
    Backend,
    InfraMode,
    infra_mode,
    required_env,
    start_kafka_container,
    start_local_kafka,
    start_local_mongo,
    start_mongo_container,
    wait_for_topics,
)


def pytest_report_header(config: pytest.Config) -> str:
    return f"infra: {infra_mode().value} (set CRM_TEST_INFRA=local|containers|external)"


async def _close(backend: Backend) -> None:
    if isinstance(backend.node, KafkaNode | MongoNode):
        await backend.node.stop()
    for close in backend.closers:
        with contextlib.suppress(Exception):
            close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _kafka(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Backend]:
    mode = infra_mode()
    if mode is InfraMode.LOCAL:
        node = await start_local_kafka(tmp_path_factory.mktemp("kafka"))
        backend = Backend(node.bootstrap, node)
    elif mode is InfraMode.CONTAINERS:
        container, bootstrap = start_kafka_container()
        backend = Backend(bootstrap, closers=[container.stop])
    else:
        backend = Backend(required_env(KAFKA_ENV))
    try:
        yield backend
    finally:
        await _close(backend)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _mongo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Backend]:
    mode = infra_mode()
    if mode is InfraMode.LOCAL:
        node = await start_local_mongo(tmp_path_factory.mktemp("mongo"))
        backend = Backend(node.uri, node)
    elif mode is InfraMode.CONTAINERS:
        container, uri = start_mongo_container()
        backend = Backend(uri, closers=[container.stop])
    else:
        backend = Backend(required_env(MONGO_ENV))
    try:
        yield backend
    finally:
        await _close(backend)


@pytest.fixture(scope="session")
def kafka_bootstrap(_kafka: Backend) -> str:
    return _kafka.address


@pytest.fixture(scope="session")
def kafka_node(_kafka: Backend) -> KafkaNode:
    if not isinstance(_kafka.node, KafkaNode):
        pytest.skip(f"needs a Kafka process to kill: CRM_TEST_INFRA=local (now {infra_mode()})")
    return _kafka.node


@pytest.fixture(scope="session")
def mongo_uri(_mongo: Backend) -> str:
    return _mongo.address


@pytest.fixture(scope="session")
def mongo_node(_mongo: Backend) -> MongoNode:
    if not isinstance(_mongo.node, MongoNode):
        pytest.skip(f"needs a MongoDB process to kill: CRM_TEST_INFRA=local (now {infra_mode()})")
    return _mongo.node


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def kafka_topics(kafka_bootstrap: str) -> list[str]:
    """Every topic of the system and its DLQ, created (idempotently) once per session."""
    from crm_shared.contracts.topics import ALL_TOPICS
    from crm_shared.kafka.topics import ensure_topics

    await ensure_topics(kafka_bootstrap, wait_seconds=30)  # returns only what it created
    names = [name for topic in ALL_TOPICS for name in (topic.name, topic.dlq)]
    await wait_for_topics(kafka_bootstrap, names)
    return names


@pytest.fixture(scope="session")
def smtp_sink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    """One SMTP sink for the session (tests tell their mail apart by recipient)."""
    sink = SmtpSink("127.0.0.1", 0, tmp_path_factory.mktemp("mail"))
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(autouse=True)
def _reset_smtp_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    # A fault programmed by one test (even one that failed half-way) must not
    # leak into the next; only touch the sink if this test used it.
    yield
    if "smtp_sink" in request.fixturenames:
        request.getfixturevalue("smtp_sink").reset_faults()
