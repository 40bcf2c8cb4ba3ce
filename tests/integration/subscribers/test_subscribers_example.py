"""examples/district_subscriber.py, as a district system runs it, against the real broker."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from crm_shared.contracts import CloudEvent, EventData, new_event
from crm_shared.contracts.lifecycle import (
    ContactAdded,
    ContactErased,
    EnterpriseCreated,
    EnterpriseStageChanged,
    InteractionLogged,
)
from crm_shared.contracts.topics import LIFECYCLE
from crm_shared.mongo.outbox import stored_event
from support import unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "district_subscriber.py"
LINE = re.compile(r"^(ok|duplicate|INVALID)\s+(\S+)\[(\d+)\]@(\d+) firm=(\S*) id=(\S+) (.*)$")


@pytest_asyncio.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    yield producer
    await producer.stop()


def journey(firm: str) -> list[CloudEvent[Any]]:
    """A firm's first weeks, as intake would publish them."""
    contact = f"{firm}-c1"
    steps: list[EventData] = [
        EnterpriseCreated(enterprise_id=firm, name="Kessler Antriebe GmbH", country="DE",
                          source="forum"),
        ContactAdded(enterprise_id=firm, contact_id=contact, full_name="Jana Kessler",
                     email="jana@example.com", language="de", email_consent=True),
        EnterpriseStageChanged(enterprise_id=firm, from_stage="first_contact",
                               to_stage="qualified", actor="officer-1"),
        InteractionLogged(enterprise_id=firm, interaction_id=f"{firm}-i1", kind="site_visit",
                          occurred_at="2026-11-20T09:30:00+08:00", contact_ids=[contact]),
        ContactErased(enterprise_id=firm, contact_id=contact),
    ]  # fmt: skip
    return [new_event(step, service="intake", subject=firm) for step in steps]


async def publish(producer: AIOKafkaProducer, event: CloudEvent[Any], value: bytes | None = None):
    record = stored_event(event)  # the headers the relay sets
    headers = [(k, v.encode()) for k, v in record["headers"]]
    await producer.send_and_wait(
        LIFECYCLE.name, value or event.to_json(), key=event.subject.encode(), headers=headers
    )


async def read_until_ready(process: asyncio.subprocess.Process) -> list[str]:
    assert process.stdout is not None
    seen = []
    async with asyncio.timeout(60):
        while True:
            line = (await process.stdout.readline()).decode()
            if not line:
                raise AssertionError(f"the subscriber exited early: {seen}")
            seen.append(line)
            if line.startswith("# ready"):
                return seen


async def test_the_example_validates_and_prints_every_event_in_order_per_firm(
    kafka_bootstrap: str, producer: AIOKafkaProducer
) -> None:
    first, second, broken = unique("firm-a"), unique("firm-b"), unique("firm-x")
    events_a, events_b = journey(first), journey(second)
    invalid = new_event(
        EnterpriseStageChanged(enterprise_id=broken, from_stage="qualified", to_stage="engaged"),
        service="intake",
        subject=broken,
    )
    invalid_value = json.loads(invalid.to_json())
    invalid_value["data"]["to_stage"] = "somewhere"  # not a stage: the schema must catch it
    total = len(events_a) + len(events_b) + 2  # + one redelivery + one invalid event

    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE),
        "--bootstrap", kafka_bootstrap, "--group", unique("district-stats"),
        "--start", "latest", "--max-events", str(total), "--timeout", "90",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        await read_until_ready(process)
        for a, b in zip(events_a, events_b, strict=True):  # the two journeys interleave
            await publish(producer, a)
            await publish(producer, b)
        await publish(producer, events_a[2])  # Kafka may redeliver: the same id again
        await publish(producer, invalid, json.dumps(invalid_value).encode())
        output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = output.decode()
    assert process.returncode == 0, text
    lines = [m.groups() for m in map(LINE.match, text.splitlines()) if m]
    assert len(lines) == total, text

    def printed(firm: str, status: str) -> list[str]:
        return [line[5] for line in lines if line[4] == firm and line[0] == status]

    assert printed(first, "ok") == [str(e.id) for e in events_a], text
    assert printed(second, "ok") == [str(e.id) for e in events_b], text
    assert printed(first, "duplicate") == [str(events_a[2].id)]
    [rejected] = [line for line in lines if line[4] == broken]
    assert rejected[0] == "INVALID"
    assert "to_stage" in rejected[6]
    erased = [line[6] for line in lines if line[5] == str(events_a[-1].id)]
    assert erased == [f"contact.erased: contact {first}-c1 erased (local data deleted)"]
    assert "jana@example.com" not in text  # summaries carry no personal data
    assert f"# {total} events, 1 invalid" in text
