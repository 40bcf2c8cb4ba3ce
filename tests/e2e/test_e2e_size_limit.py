"""The largest record a topic accepts, on the topic notification reads its requests from.

Its dead letter carries extra headers, so it is larger than Kafka's default limits: the
consumer must still move on (the dead letter's value is cut to fit, `x-dlq-truncated`).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from crm_devstack import SmtpSink
from crm_shared.contracts.topics import NOTIFICATION_REQUESTS

from .e2e_kit import addressed_to
from .stack import Stack
from .test_e2e_resilience import _dead_letters, _firm_with_welcome, _meeting, producer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# Kafka's default limit of a record batch on the broker (message.max.bytes).
BROKER_MAX_BATCH = 1_048_588
__all__ = ["producer"]  # the fixture, shared with the poison tests


async def test_a_message_at_the_size_limit_is_dead_lettered_and_consumers_go_on(
    stack: Stack, smtp_sink: SmtpSink, staff: Any, producer: AIOKafkaProducer, kafka_bootstrap: str
) -> None:
    """The largest record a topic accepts: its dead letter carries extra headers, so it is
    larger than the limit. The consumer must still move on (and keep the evidence)."""
    firm, contact, address = await _firm_with_welcome(stack, smtp_sink, staff.officer)
    value = b"x" * (BROKER_MAX_BATCH - 200 - len(firm))
    sent = await producer.send_and_wait(NOTIFICATION_REQUESTS.name, value, key=firm.encode())
    await _meeting(stack, staff.officer, firm, contact)
    try:
        await smtp_sink.wait_for(addressed_to(address), count=2, timeout=60)
    except TimeoutError:
        pytest.fail(
            "the thank-you behind a near-1-MiB record never came: notification's consumer "
            f"is stuck at {NOTIFICATION_REQUESTS.name}[{sent.partition}]@{sent.offset}"
        )
    letters = await _dead_letters(kafka_bootstrap, NOTIFICATION_REQUESTS, firm, 1)
    assert letters, "the record was skipped without a dead letter"
    async with httpx.AsyncClient(base_url=stack.url("notification")) as http:
        assert (await http.get("/healthz")).status_code == 200
