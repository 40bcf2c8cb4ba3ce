"""Internationalised addresses through the real SMTP sink: IDN domains go out in ASCII
form, a non-ASCII local part with SMTPUTF8, and a server without SMTPUTF8 fails the
request with an answer that says why."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from crm_devstack import SmtpSink
from crm_devstack.smtp_sink import ENVELOPE_TO
from crm_shared.contracts.topics import NOTIFICATION
from support import TopicReader

from .conftest import (
    RunningService,
    events_about,
    notification_settings,
    publish,
    requested,
    run_service,
    types_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]

IDN = "bücher.example"
IDN_ASCII = "xn--bcher-kva.example"


def _local(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def _envelope_to(address: str) -> Any:
    return lambda message: str(message[ENVELOPE_TO]) == address


async def _outcomes(kafka_bootstrap: str, *notification_ids: str) -> dict[str, dict[str, Any]]:
    async with TopicReader(kafka_bootstrap, NOTIFICATION.name) as reader:
        await reader.read_until(
            lambda r: all(events_about(r, n) for n in notification_ids), timeout=30
        )
        return {n: events_about(reader.records, n)[0] for n in notification_ids}


def _single(messages: list[EmailMessage]) -> EmailMessage:
    assert len(messages) == 1, [str(m["Message-ID"]) for m in messages]
    return messages[0]


async def test_idn_addresses_arrive_with_their_domain_in_ascii_form(
    service: RunningService, producer: AIOKafkaProducer, smtp_sink: SmtpSink, kafka_bootstrap: str
) -> None:
    utf8_local = _local("jörg")
    ascii_local = _local("info")
    umlauts = requested(recipient=f"{utf8_local}@{IDN}", recipient_name="Jörg Müller")
    domain_only = requested(recipient=f"{ascii_local}@{IDN}")
    await publish(producer, umlauts, domain_only)

    envelope = f"{utf8_local}@{IDN_ASCII}"
    message = _single(await smtp_sink.wait_for(_envelope_to(envelope), timeout=30))
    assert envelope in str(message["To"])  # raw UTF-8 in the header, readable
    assert message["To"].addresses[0].display_name == "Jörg Müller"
    assert "Jörg Müller" in message.get_body(("plain",)).get_content()

    envelope = f"{ascii_local}@{IDN_ASCII}"
    message = _single(await smtp_sink.wait_for(_envelope_to(envelope), timeout=30))
    assert message["To"].addresses[0].addr_spec == envelope

    outcomes = await _outcomes(
        kafka_bootstrap, umlauts.data.notification_id, domain_only.data.notification_id
    )
    assert types_of(list(outcomes.values())) == ["notification.sent", "notification.sent"]


async def test_a_server_without_smtputf8_fails_a_non_ascii_local_part_and_says_why(
    kafka_bootstrap: str, mongo_uri: str, producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    with SmtpSink("127.0.0.1", 0, tmp_path / "mail", smtputf8=False) as old_server:
        settings = notification_settings(kafka_bootstrap, mongo_uri, old_server.port)
        async with run_service(settings) as service:
            umlauts = requested(recipient=f"{_local('jörg')}@{IDN}")
            ascii_local = _local("info")
            domain_only = requested(recipient=f"{ascii_local}@{IDN}")
            await publish(producer, umlauts, domain_only)
            outcomes = await _outcomes(
                kafka_bootstrap, umlauts.data.notification_id, domain_only.data.notification_id
            )
            failed = outcomes[umlauts.data.notification_id]
            assert types_of([failed]) == ["notification.failed"]
            assert failed["data"].get("smtp_code") is None
            assert failed["data"]["smtp_response"] == (
                "the server does not offer SMTPUTF8, which this recipient's address needs"
            )
            assert failed["data"]["attempts"] == 1  # permanent: not retried
            [item] = [
                i
                for i in await service.notifications(umlauts.subject)
                if i["notification_id"] == umlauts.data.notification_id
            ]
            assert [(a["stage"], a["result"]) for a in item["attempts"]] == [("mail", "permanent")]
            # The server's limit, not the mailbox's: the address is not suppressed.
            db = service.app.state.runtime.db
            stored = await db.deliveries.find_one({"_id": umlauts.data.notification_id})
            assert await db.suppressions.find_one({"_id": stored["recipient_hash"]}) is None

            # An IDN domain alone needs no SMTPUTF8: that one is sent.
            assert types_of([outcomes[domain_only.data.notification_id]]) == ["notification.sent"]
            await old_server.wait_for(_envelope_to(f"{ascii_local}@{IDN_ASCII}"), timeout=30)
        assert len(old_server.messages()) == 1
