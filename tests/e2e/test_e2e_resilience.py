"""Poison on every consumed topic: each consumer dead-letters it and carries on.

Bad records are keyed by a real firm's id, so they sit on the same partitions as that
firm's later events: a consumer stuck on them would never deliver the firm's next email.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from crm_devstack import SmtpSink
from crm_shared.contracts import new_event
from crm_shared.contracts.followup import FollowupCancelled, NotificationRequested
from crm_shared.contracts.lifecycle import EnterpriseCreated
from crm_shared.contracts.notification import NotificationSent
from crm_shared.contracts.topics import (
    FOLLOWUP,
    LIFECYCLE,
    NOTIFICATION,
    NOTIFICATION_REQUESTS,
    Topic,
)
from support import TopicReader, wait_until

from .e2e_kit import GROUP_TOPICS, addressed_to, everything_consumed, unique_email
from .stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TOPICS = (LIFECYCLE, FOLLOWUP, NOTIFICATION_REQUESTS, NOTIFICATION)
MIB = 1024 * 1024


def _valid_of(topic: Topic, firm: str) -> dict[str, Any]:
    """A valid event of a type that belongs on `topic`, as a JSON document."""
    data = {
        LIFECYCLE.name: lambda: EnterpriseCreated(
            enterprise_id=firm, name="Giftig GmbH", country="DE", source="forum"
        ),
        FOLLOWUP.name: lambda: FollowupCancelled(
            followup_id=f"poison:{firm}", enterprise_id=firm, reason="poison test"
        ),
        NOTIFICATION_REQUESTS.name: lambda: NotificationRequested(
            notification_id=f"ntf:poison:{firm}",
            enterprise_id=firm,
            recipient="nobody@example.com",
            template="welcome",
            category="followup",
        ),
        NOTIFICATION.name: lambda: NotificationSent(
            enterprise_id=firm,
            notification_id=f"ntf:poison:{firm}",
            template="welcome",
            message_id="<poison@example.com>",
            sent_at=datetime.now(UTC),
        ),
    }[topic.name]()
    return json.loads(new_event(data, service="poison", subject=firm).to_json())


def poison(topic: Topic, firm: str) -> dict[str, bytes | None]:
    """Messages no consumer of `topic` can ever process, by what is wrong with them."""
    wrong_type = _valid_of(topic, firm)
    wrong_type["data"]["enterprise_id"] = ["not", "a", "string"]
    unknown = {**_valid_of(topic, firm), "type": "warmyang.enterprise.exploded.v1"}
    elsewhere = _valid_of(LIFECYCLE if topic is not LIFECYCLE else FOLLOWUP, firm)
    return {
        "malformed": b'{"specversion": "1.0", "type": "warmyang.enterprise.crea',
        "not_an_object": b"[1, 2, 3]",
        "binary": bytes(range(256)),
        "empty": None,
        "wrong_type": json.dumps(wrong_type).encode(),
        "unknown_type": json.dumps(unknown).encode(),
        "other_topics_type": json.dumps(elsewhere).encode(),
        "large": b'{"junk": "' + b"x" * (512 * 1024) + b'"}',
    }


def groups_of(topic: Topic) -> list[str]:
    return [group for group, topics in GROUP_TOPICS.items() if topic.name in topics]


@pytest_asyncio.fixture(loop_scope="session")
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    # Big requests allowed on our side: the broker, not this producer, sets the limit.
    client = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=4 * MIB)
    await client.start()
    yield client
    await client.stop()


async def _firm_with_welcome(stack: Stack, sink: SmtpSink, officer: str) -> tuple[str, str, str]:
    address = unique_email("Petra.Giftmischer")
    async with stack.client("intake", officer) as http:
        response = await http.post(
            "/api/v1/enterprises",
            json={
                "name": f"Giftmischer Analytik GmbH {uuid.uuid4().hex[:6]}",
                "country": "DE",
                "source": "training",
                "primary_contact": {"full_name": "Petra Giftmischer", "email": address,
                                    "language": "de", "email_consent": True},
            },
        )  # fmt: skip
        assert response.status_code == 201, response.text
    firm = response.json()
    await sink.wait_for(addressed_to(address), timeout=60)
    return firm["id"], firm["contacts"][0]["id"], address


async def _meeting(stack: Stack, officer: str, firm: str, contact: str) -> None:
    async with stack.client("intake", officer) as http:
        response = await http.post(
            f"/api/v1/enterprises/{firm}/interactions",
            json={"kind": "meeting", "contact_ids": [contact], "summary": "after the poison",
                  "occurred_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()},
        )  # fmt: skip
        assert response.status_code == 201, response.text


async def _dead_letters(bootstrap: str, topic: Topic, key: str, wanted: int) -> list[Any]:
    async with TopicReader(bootstrap, topic.dlq) as dlq:

        async def arrived() -> bool:
            await dlq.poll()
            return len(dlq.keyed(key)) >= wanted

        with contextlib.suppress(TimeoutError):  # the assertions say what is missing
            await wait_until(arrived, timeout=60)
        return dlq.keyed(key)


async def test_poison_on_every_topic_is_dead_lettered_by_every_consumer(
    stack: Stack, smtp_sink: SmtpSink, staff: Any, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    firm, contact, address = await _firm_with_welcome(stack, smtp_sink, staff.officer)
    produced: dict[str, dict[int, str]] = {}  # topic -> offset -> what is wrong
    for topic in TOPICS:
        produced[topic.name] = {}
        for problem, value in poison(topic, firm).items():
            sent = await producer.send_and_wait(topic.name, value, key=firm.encode())
            produced[topic.name][sent.offset] = problem

    # A valid event of the same firm, on the same partitions, behind the poison.
    await _meeting(stack, staff.officer, firm, contact)
    await smtp_sink.wait_for(addressed_to(address), count=2, timeout=60)
    async with stack.client("intake") as http:

        async def thank_you_on_the_timeline() -> bool:
            timeline = (await http.get(f"/api/v1/enterprises/{firm}/timeline")).json()
            sent = [e for e in timeline["entries"] if e["kind"] == "notification.sent"]
            return len(sent) >= 2

        await wait_until(thank_you_on_the_timeline, timeout=60)
    await everything_consumed(kafka_bootstrap, timeout=90)  # nobody is stuck behind it

    for topic in TOPICS:
        groups = groups_of(topic)
        letters = await _dead_letters(
            kafka_bootstrap, topic, firm, len(produced[topic.name]) * len(groups)
        )
        got: dict[str, set[str]] = {}
        for record in letters:
            headers = {k: v.decode() for k, v in record.headers}
            assert headers["x-dlq-original-topic"] == topic.name
            problem = produced[topic.name].get(int(headers["x-dlq-original-offset"]))
            assert problem is not None, headers
            assert headers["x-dlq-error"], headers
            got.setdefault(problem, set()).add(headers["x-dlq-consumer-group"])
        missing = {
            problem: sorted(set(groups) - got.get(problem, set()))
            for problem in produced[topic.name].values()
            if set(groups) - got.get(problem, set())
        }
        assert not missing, f"{topic.name}: not dead-lettered by {missing}"


async def test_the_broker_refuses_a_message_over_one_mebibyte(
    stack: Stack, producer: AIOKafkaProducer
) -> None:
    """No consumer can ever receive more than the topic's limit: the broker refuses it."""
    del stack
    with pytest.raises(KafkaError):
        await producer.send_and_wait(LIFECYCLE.name, b"x" * (MIB + MIB // 2), key=b"ent_oversized")
