"""SIGKILL of `crm-notification` in the middle of 1,000 emails, then a restart:
every email reaches the SMTP sink at most once, and any that did not arrive is
one the service itself reports as unconfirmed (README: "Sent once")."""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from crm_devstack import SmtpSink
from support import unique, wait_until

from .conftest import ADMIN_TOKEN, publish, requested

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]

BATCH = 1000
KILL_AFTER = 250  # emails in the sink before the kill
FINAL = ["sent", "unconfirmed", "failed", "suppressed"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "crm_notification.entrypoints.main"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def _ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:

        async def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"crm-notification exited: {_tail(log)}")
            try:
                return (await http.get("/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await wait_until(ready, timeout=90, interval=0.2)


async def test_sigkill_during_a_batch_sends_each_email_at_most_once(
    kafka_bootstrap: str,
    mongo_uri: str,
    smtp_sink: SmtpSink,
    producer: AIOKafkaProducer,
    tmp_path: Path,
) -> None:
    database = unique("t_notification_crash").replace("-", "_")
    port = _free_port()
    env = {
        "CRM_ENV": "test",
        "CRM_LOG_LEVEL": "WARNING",
        "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "CRM_MONGO_URI": mongo_uri,
        "CRM_NOTIFICATION_DATABASE": database,
        "CRM_NOTIFICATION_PORT": str(port),
        "CRM_SMTP_PORT": str(smtp_sink.port),
        "CRM_MAIL_FROM": "Warm Yang <desk@example.com>",
        "CRM_PUBLIC_BASE_URL": "https://notify.example.com",
        "CRM_BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "CRM_NOTIFICATION_LEASE_SECONDS": "2",
        "CRM_OUTBOX_LEASE_SECONDS": "2",
        "CRM_NOTIFICATION_POLL_SECONDS": "0.1",
        "CRM_NOTIFICATION_RETRY_BASE_SECONDS": "0.05",
        "CRM_CONSUMER_RETRY_BASE_SECONDS": "0.05",
    }
    log = tmp_path / "notification.log"
    batch = unique("kill")
    recipients = {f"{batch}-{n}@example.com" for n in range(BATCH)}
    events = [
        requested(recipient=f"{batch}-{n}@example.com", enterprise_id=f"{batch}-ent-{n % 40}")
        for n in range(BATCH)
    ]
    ids = {e.data.notification_id for e in events}

    def delivered() -> collections.Counter[str]:
        """Message-IDs of this batch in the sink, with how often each arrived."""
        return collections.Counter(
            str(m["Message-ID"])
            for m in smtp_sink.messages()
            if str(m["X-Envelope-To"]) in recipients
        )

    process = _start(env, log)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        await _ready(process, port, log)
        await publish(producer, *events)

        async def midway() -> bool:
            return sum(delivered().values()) >= KILL_AFTER

        await wait_until(midway, timeout=120, interval=0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        at_kill = sum(delivered().values())

        process = _start(env, log)
        await _ready(process, port, log)
        deliveries = mongo[database].deliveries

        async def all_settled() -> bool:
            return await deliveries.count_documents({"state": {"$in": FINAL}}) == BATCH

        await wait_until(all_settled, timeout=240, interval=0.5)
        states = collections.Counter([d["state"] async for d in deliveries.find({}, {"state": 1})])
        unconfirmed = {d["message_id"] async for d in deliveries.find({"state": "unconfirmed"})}
        counts = delivered()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        await mongo.drop_database(database)
        await mongo.close()

    expected = {f"<{i}.notification@example.com>" for i in ids}
    duplicated = {mid: n for mid, n in counts.items() if n > 1}
    lost = expected - set(counts)
    print(  # the figures the README quotes; -s shows them
        f"\nSIGKILL after {at_kill} of {BATCH} emails: states {dict(states)}; "
        f"in the sink {len(counts)} distinct, {len(duplicated)} duplicated, {len(lost)} lost; "
        f"{len(unconfirmed)} recorded as unconfirmed"
    )
    assert set(counts) <= expected
    assert duplicated == {}, "an email was sent twice"
    assert lost <= unconfirmed, "an email went missing without being reported as unconfirmed"
    assert states["sent"] + states["unconfirmed"] == BATCH
