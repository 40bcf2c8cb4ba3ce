"""SIGKILL of a `crm-followup` process in the middle of dispatching loses nothing.

Due follow-ups are inserted directly rather than produced through lifecycle events
and a moved clock: the subject here is the dispatcher and the outbox relay of a
real process, and inserting 1,500 due follow-ups takes a second where scheduling
them through Kafka would take a minute. (The clock-offset setting,
CRM_FOLLOWUP_CLOCK_OFFSET_SECONDS, exists for demos that need events to run.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from pymongo.asynchronous.database import AsyncDatabase

from crm_shared.contracts.topics import NOTIFICATION_REQUESTS
from crm_shared.mongo.client import create_mongo_client
from support import TopicReader, unique, wait_until

from .followup_kit import request_events_by_followup, seed_due_followups

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]

TOTAL = 1500


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest_asyncio.fixture
async def db(mongo_uri: str) -> AsyncIterator[AsyncDatabase]:
    client = create_mongo_client(mongo_uri, app_name="tests")
    name = unique("t_followup_crash").replace("-", "_")
    yield client[name]
    await client.drop_database(name)
    await client.close()


@pytest.fixture
def start_followup(kafka_bootstrap: str, mongo_uri: str, db: AsyncDatabase) -> Iterator:
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "CRM_ENV": "test",
            "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "CRM_MONGO_URI": mongo_uri,
            "CRM_FOLLOWUP_DATABASE": db.name,
            "CRM_FOLLOWUP_PORT": str(_free_port()),
            "CRM_FOLLOWUP_BUSINESS_HOURS": "off",
            "CRM_FOLLOWUP_FREQUENCY_CAP": "0",
            "CRM_FOLLOWUP_DISPATCH_BATCH_SIZE": "25",
            "CRM_FOLLOWUP_CLAIM_LEASE_SECONDS": "3",
            "CRM_OUTBOX_LEASE_SECONDS": "3",
            "CRM_LOG_LEVEL": "WARNING",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "crm_followup.entrypoints.main"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


async def _dispatched(db: AsyncDatabase) -> int:
    return await db.followups.count_documents({"status": "dispatched"})


async def test_sigkill_mid_dispatch_loses_no_request(
    db: AsyncDatabase, start_followup, kafka_bootstrap: str
) -> None:
    ids = await seed_due_followups(db, TOTAL, due_at=datetime.now(UTC) - timedelta(minutes=5))

    first = start_followup()

    async def dispatching_under_way() -> bool:
        assert first.poll() is None, "crm-followup exited early"
        return await _dispatched(db) >= 150

    await wait_until(dispatching_under_way, timeout=120, interval=0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    at_kill = await _dispatched(db)
    assert at_kill < TOTAL, "the kill came after the work was done: nothing was tested"

    second = start_followup()

    async def all_dispatched() -> bool:
        assert second.poll() is None, "the second crm-followup exited"
        return await _dispatched(db) == TOTAL

    await wait_until(all_dispatched, timeout=180, interval=0.2)

    wanted = set(ids)
    async with TopicReader(kafka_bootstrap, NOTIFICATION_REQUESTS.name) as topic:
        await topic.read_until(
            lambda records: set(request_events_by_followup(records, wanted)) == wanted, timeout=120
        )
        requests = request_events_by_followup(topic.records, wanted)
    assert set(requests) == wanted, "every follow-up was requested"
    for followup_id, events in requests.items():
        # The relay may publish an event again after a crash (same id: consumers dedupe);
        # a second dispatch would be a second event id.
        assert len({e["id"] for e in events}) == 1, f"{followup_id} dispatched twice"
        assert {e["data"]["notification_id"] for e in events} == {f"ntf:{followup_id}"}
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=60) == 0
