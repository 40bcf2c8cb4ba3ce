"""The local stack itself: real Kafka, SecantusDB and the SMTP sink behave as the tests rely on."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

from crm_devstack import (
    InboxServer,
    KafkaNode,
    MissingToolError,
    MongoNode,
    NodeStartError,
    SmtpSink,
    ensure_kafka_libs,
    free_port,
)
from infra import InfraMode, consumer_kwargs, infra_mode, producer_kwargs
from support import wait_until

pytestmark = pytest.mark.integration

needs_local_tools = pytest.mark.skipif(
    infra_mode() is not InfraMode.LOCAL and shutil.which("java") is None,
    reason="starts its own Kafka process: needs java (always run with CRM_TEST_INFRA=local)",
)


async def _create_topic(bootstrap: str, partitions: int = 3) -> str:
    name = f"devstack-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        await admin.close()
    return name


async def _read_all(bootstrap: str, topic: str, expected: int, **kwargs: object) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, **consumer_kwargs(bootstrap, **kwargs))
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(values) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                values.extend(m.value for msgs in batch.values() for m in msgs if m.value)
    finally:
        await consumer.stop()
    return values


# -- Kafka ---------------------------------------------------------------------------


async def test_kafka_idempotent_and_transactional_produce_then_consume(
    kafka_bootstrap: str,
) -> None:
    topic = await _create_topic(kafka_bootstrap)
    producer = AIOKafkaProducer(**producer_kwargs(kafka_bootstrap))
    await producer.start()
    try:
        for i in range(20):
            await producer.send_and_wait(topic, f"plain-{i}".encode(), key=str(i % 4).encode())
    finally:
        await producer.stop()

    tx = AIOKafkaProducer(
        **producer_kwargs(kafka_bootstrap, transactional_id=f"devstack-{uuid.uuid4().hex}")
    )
    await tx.start()
    try:
        async with tx.transaction():
            await tx.send(topic, b"committed")
        await tx.begin_transaction()
        await tx.send(topic, b"aborted")
        await tx.abort_transaction()
    finally:
        await tx.stop()

    values = await _read_all(kafka_bootstrap, topic, 21, isolation_level="read_committed")
    assert sorted(values) == sorted([f"plain-{i}".encode() for i in range(20)] + [b"committed"])


async def test_topics_fixture_creates_every_topic_and_its_dlq(
    kafka_bootstrap: str, kafka_topics: list[str]
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    assert kafka_topics
    assert any(name.endswith(".dlq") for name in kafka_topics)
    assert set(kafka_topics) <= existing


@needs_local_tools
async def test_kafka_kill_and_restart_keeps_topics_and_messages(tmp_path: Path) -> None:
    node = KafkaNode(tmp_path / "kafka")
    try:
        first_start = await node.start(timeout=120)
        topic = await _create_topic(node.bootstrap)
        producer = AIOKafkaProducer(**producer_kwargs(node.bootstrap))
        await producer.start()
        try:
            for i in range(50):
                await producer.send(topic, f"m{i}".encode())
            await producer.flush()
        finally:
            await producer.stop()
        meta = (node.log_dirs / "meta.properties").read_text()

        node.kill()
        assert not node.running
        restart = await node.start(timeout=120)

        assert (node.log_dirs / "meta.properties").read_text() == meta, "data dir reformatted"
        values = await _read_all(node.bootstrap, topic, 50)
        assert sorted(values) == sorted(f"m{i}".encode() for i in range(50))
        print(f"kafka: first start {first_start:.1f} s, restart after kill -9 {restart:.1f} s")
    finally:
        await node.stop()


def test_missing_maven_is_named_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no mvn anywhere
    with pytest.raises(MissingToolError, match=r"`mvn` not found.*apt-get install"):
        ensure_kafka_libs(tmp_path / "cache")


def test_cached_jars_are_reused_without_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    libs = tmp_path / "cache" / "kafka-libs"
    libs.mkdir(parents=True)
    (libs / "kafka_2.13-4.1.1.jar").touch()
    monkeypatch.setenv("PATH", str(tmp_path))
    assert ensure_kafka_libs(tmp_path / "cache") == libs


def test_cli_names_a_missing_java(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "CRM_DEVSTACK_CACHE": str(tmp_path / "cache")}
    (tmp_path / "cache" / "kafka-libs").mkdir(parents=True)
    (tmp_path / "cache" / "kafka-libs" / "kafka_2.13-4.1.1.jar").touch()
    cmd = [sys.executable, "-m", "crm_devstack.cli", "kafka", "--port", str(free_port())]
    result = subprocess.run(
        [*cmd, "--data", str(tmp_path / "kafka")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "`java` not found" in result.stderr


# -- MongoDB (SecantusDB) --------------------------------------------------------------


async def _transfer(uri: str, db: str, *, commit: bool) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
    try:
        async with client.start_session() as session, await session.start_transaction():
            await client[db].orders.insert_one({"_id": "o1", "total": 10}, session=session)
            await client[db].outbox.insert_one({"_id": "e1", "order": "o1"}, session=session)
            if not commit:
                await session.abort_transaction()
    finally:
        await client.close()


async def _count(uri: str, db: str) -> tuple[int, int]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(uri)
    try:
        return (
            await client[db].orders.count_documents({}),
            await client[db].outbox.count_documents({}),
        )
    finally:
        await client.close()


async def test_mongo_multi_document_transaction_commits_and_aborts(mongo_uri: str) -> None:
    aborted, committed = f"t{uuid.uuid4().hex[:8]}", f"t{uuid.uuid4().hex[:8]}"
    await _transfer(mongo_uri, aborted, commit=False)
    await _transfer(mongo_uri, committed, commit=True)
    assert await _count(mongo_uri, aborted) == (0, 0)
    assert await _count(mongo_uri, committed) == (1, 1)


async def test_mongo_kill_and_restart_keeps_committed_data(tmp_path: Path) -> None:
    node = MongoNode(tmp_path / "mongo", sync_on_commit=True)
    try:
        await node.start()
        port = node.port
        await _transfer(node.uri, "crm", commit=True)
        node.kill()
        restart = await node.start()
        assert node.port == port
        assert await _count(node.uri, "crm") == (1, 1)
        print(f"secantusdb: restart after kill -9 {restart:.2f} s")
    finally:
        await node.stop()


async def test_node_that_dies_on_start_reports_its_log(tmp_path: Path) -> None:
    taken = MongoNode(tmp_path / "first")
    await taken.start()
    try:
        clash = MongoNode(tmp_path / "second", port=taken.port)
        with pytest.raises(NodeStartError, match=r"exited with status .*log"):
            await clash.start(timeout=20)
        assert not clash.running
    finally:
        await taken.stop()


def test_cli_runs_in_foreground_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "crm_devstack.cli", "mongo", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, "--data", str(tmp_path / "mongo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"mongo ready: mongodb://127.0.0.1:{port}/" in line, line
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        rest = proc.stdout.read()
        assert "stopped" in rest, rest
        print(f"crm-devstack mongo: stopped {time.monotonic() - began:.1f} s after SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- SMTP sink -----------------------------------------------------------------------


def _mail(to: str, subject: str = "Follow-up", language: str = "zh-CN") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "暖阳 CRM <crm@warmyang.test>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("您好，这是一封测试邮件。")
    message.add_alternative("<p>您好 <script>alert(1)</script></p>", subtype="html")
    # After the body: set_content() drops every Content-* header set before it.
    message["Content-Language"] = language
    return message


def _rcpt() -> str:
    return f"u{uuid.uuid4().hex[:10]}@example.test"


async def test_smtp_sink_stores_each_message(smtp_sink: SmtpSink) -> None:
    to = _rcpt()
    await aiosmtplib.send(_mail(to, "你好 Hello"), hostname="127.0.0.1", port=smtp_sink.port)
    [received] = await smtp_sink.wait_for(lambda m: m["To"] == to, timeout=5)
    assert received["Subject"] == "你好 Hello"
    assert received["From"].addresses[0].display_name == "暖阳 CRM"
    assert received["Content-Language"] == "zh-CN"
    assert received["X-Envelope-To"] == to
    body = received.get_body(preferencelist=("plain",))
    assert body is not None
    assert "测试邮件" in body.get_content()


async def test_smtp_sink_fail_next_answers_451_then_accepts(smtp_sink: SmtpSink) -> None:
    to = _rcpt()
    stored_before = smtp_sink.stored
    smtp_sink.fail_next(2, 451, "4.7.1 Greylisted, try again")
    for _ in range(2):
        with pytest.raises(aiosmtplib.SMTPDataError) as raised:
            await aiosmtplib.send(_mail(to), hostname="127.0.0.1", port=smtp_sink.port)
        assert raised.value.code == 451
        assert "Greylisted" in raised.value.message
    await aiosmtplib.send(_mail(to), hostname="127.0.0.1", port=smtp_sink.port)
    assert len(await smtp_sink.wait_for(lambda m: m["To"] == to)) == 1
    assert [f.code for _, f in smtp_sink.faults_answered[-2:]] == [451, 451]

    async def counted() -> bool:  # the counter the benchmark polls: stored, not refused
        return smtp_sink.stored == stored_before + 1

    await wait_until(counted, timeout=5)


async def test_smtp_sink_rejects_a_recipient_with_550(smtp_sink: SmtpSink) -> None:
    bad, good = _rcpt(), _rcpt()
    smtp_sink.reject_recipient(bad, 550, "5.1.1 Mailbox does not exist")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as raised:
        await aiosmtplib.send(_mail(bad), hostname="127.0.0.1", port=smtp_sink.port)
    assert raised.value.recipients[0].code == 550
    await aiosmtplib.send(_mail(good), hostname="127.0.0.1", port=smtp_sink.port)
    await smtp_sink.wait_for(lambda m: m["To"] == good)
    assert not [m for m in smtp_sink.messages() if m["To"] == bad]


@pytest_asyncio.fixture
async def inbox(smtp_sink: SmtpSink) -> AsyncIterator[InboxServer]:
    server = InboxServer(smtp_sink.maildir_path)
    server.start()
    yield server
    server.stop()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback URL
        return response.read().decode()


async def test_inbox_page_lists_and_shows_a_message(
    smtp_sink: SmtpSink, inbox: InboxServer
) -> None:
    to = _rcpt()
    await aiosmtplib.send(
        _mail(to, "Inbox <check>", "en"), hostname="127.0.0.1", port=smtp_sink.port
    )
    await smtp_sink.wait_for(lambda m: m["To"] == to)

    page = await asyncio.to_thread(_get, inbox.url)
    assert to in page
    assert "Inbox &lt;check&gt;" in page  # escaped, never raw markup

    listing = json.loads(await asyncio.to_thread(_get, inbox.url + "api/messages"))
    [entry] = [m for m in listing if m["to"] == to]
    assert entry["content_language"] == "en"
    view = await asyncio.to_thread(_get, f"{inbox.url}message/{entry['key']}")
    assert "您好" in view
    assert "<script>" not in view  # the HTML part sits escaped in a sandboxed iframe
