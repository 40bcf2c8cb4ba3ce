"""Requests become emails in the real SMTP sink: language, headers, once, retries, failures."""

from __future__ import annotations

import re

import pytest
from aiokafka import AIOKafkaProducer

from crm_devstack import SmtpSink
from crm_shared.contracts.topics import NOTIFICATION
from crm_shared.contracts.vocabulary import Language, NotificationCategory
from support import TopicReader, wait_until

from .conftest import RunningService, address, events_about, publish, requested, to, types_of

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]


async def test_a_german_request_becomes_a_german_email_with_the_right_headers(
    service: RunningService, producer: AIOKafkaProducer, smtp_sink: SmtpSink, kafka_bootstrap: str
) -> None:
    recipient = address("de")
    event = requested(
        recipient=recipient,
        template="thank_you",
        locale=Language.DE,
        recipient_name="Anna & Jörg <Weber>",
        context={
            "enterprise_name": "Müller & Söhne GmbH",
            "interaction_kind": "meeting",
            "interaction_date": "2025-03-12",
        },
    )
    await publish(producer, event)

    [message] = await smtp_sink.wait_for(to(recipient), timeout=30)
    notification_id = event.data.notification_id
    assert message["Content-Language"] == "de"
    assert message["Subject"] == "Vielen Dank für die Besprechung"
    assert message["Message-ID"] == f"<{notification_id}.notification@example.com>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    links = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))
    assert links[0].startswith("https://notify.example.com/unsubscribe/")
    assert links[1].startswith("mailto:unsubscribe@example.com?subject=")
    assert recipient not in str(message["List-Unsubscribe"])
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "vielen Dank für die Besprechung am 12. März 2025." in text
    assert "Guten Tag Anna & Jörg <Weber>," in text  # plain text is not HTML-escaped
    assert "Guten Tag Anna &amp; Jörg &lt;Weber&gt;," in html  # HTML is
    assert '<html lang="de">' in html
    assert links[0] in html
    assert links[0] in text

    async with TopicReader(kafka_bootstrap, NOTIFICATION.name) as reader:
        await reader.read_until(lambda r: bool(events_about(r, notification_id)), timeout=30)
        [sent] = events_about(reader.records, notification_id)
    assert types_of([sent]) == ["notification.sent"]
    assert sent["data"]["message_id"] == message["Message-ID"]
    assert sent["data"]["confirmed"] is True
    assert sent["subject"] == event.subject


async def test_a_transactional_email_has_no_unsubscribe(
    service: RunningService, producer: AIOKafkaProducer, smtp_sink: SmtpSink
) -> None:
    recipient = address("tx")
    await publish(
        producer,
        requested(recipient=recipient, category=NotificationCategory.TRANSACTIONAL),
    )
    [message] = await smtp_sink.wait_for(to(recipient), timeout=30)
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None
    assert "unsubscribe" not in message.get_body(("plain",)).get_content().lower()


async def test_the_same_request_delivered_twice_yields_one_email(
    service: RunningService, producer: AIOKafkaProducer, smtp_sink: SmtpSink, kafka_bootstrap: str
) -> None:
    recipient = address("twice")
    event = requested(recipient=recipient)
    # The same event twice (a redelivery), and a second event for the same notification.
    again = requested(
        recipient=recipient,
        enterprise_id=event.subject,
        notification_id=event.data.notification_id,
    )
    await publish(producer, event, event, again)
    await smtp_sink.wait_for(to(recipient), timeout=30)

    async def recorded() -> bool:
        items = await service.notifications(event.subject)
        return bool(items) and items[0]["state"] == "sent"

    await wait_until(recorded, timeout=30)
    marker = address("marker")  # sent after the duplicates: once it is in, they would be too
    await publish(producer, requested(recipient=marker, enterprise_id=event.subject))
    await smtp_sink.wait_for(to(marker), timeout=30)
    assert len([m for m in smtp_sink.messages() if to(recipient)(m)]) == 1
    async with TopicReader(kafka_bootstrap, NOTIFICATION.name) as reader:
        await reader.read_until(
            lambda r: bool(events_about(r, event.data.notification_id)), timeout=30
        )
        await reader.poll()
        assert types_of(events_about(reader.records, event.data.notification_id)) == [
            "notification.sent"
        ]


async def test_two_transient_refusals_then_one_delivery(
    service: RunningService, producer: AIOKafkaProducer, smtp_sink: SmtpSink
) -> None:
    recipient = address("451")
    smtp_sink.fail_next(2, 451, "4.7.1 Greylisted, try again later")
    event = requested(recipient=recipient)
    await publish(producer, event)

    await smtp_sink.wait_for(to(recipient), timeout=30)

    async def settled() -> bool:
        items = await service.notifications(event.subject)
        return bool(items) and items[0]["state"] == "sent"

    await wait_until(settled, timeout=30)
    [item] = await service.notifications(event.subject)
    assert [a["result"] for a in item["attempts"]] == ["transient", "transient", "accepted"]
    assert item["attempts"][0]["smtp_code"] == 451
    assert "Greylisted" in item["attempts"][0]["smtp_response"]
    assert len([m for m in smtp_sink.messages() if to(recipient)(m)]) == 1


async def test_a_permanent_refusal_fails_the_notification_and_suppresses_the_address(
    service: RunningService, producer: AIOKafkaProducer, smtp_sink: SmtpSink, kafka_bootstrap: str
) -> None:
    recipient = address("550")
    smtp_sink.reject_recipient(recipient, 550, f"5.1.1 <{recipient}>: No such user here")
    first = requested(recipient=recipient)
    await publish(producer, first)

    async with TopicReader(kafka_bootstrap, NOTIFICATION.name) as reader:
        notification_id = first.data.notification_id
        await reader.read_until(lambda r: bool(events_about(r, notification_id)), timeout=30)
        [failed] = events_about(reader.records, notification_id)
        assert types_of([failed]) == ["notification.failed"]
        assert failed["data"]["smtp_code"] == 550
        assert "No such user" in failed["data"]["smtp_response"]
        assert recipient not in failed["data"]["smtp_response"]  # redacted

        # A hard bounce: the next request to that address sends nothing.
        smtp_sink.reset_faults()
        second = requested(recipient=recipient, enterprise_id=first.subject)
        await publish(producer, second)
        second_id = second.data.notification_id
        await reader.read_until(lambda r: bool(events_about(r, second_id)), timeout=30)
        [suppressed] = events_about(reader.records, second_id)
    assert types_of([suppressed]) == ["notification.suppressed"]
    assert suppressed["data"]["reason"] == "hard_bounce"
    assert not [m for m in smtp_sink.messages() if to(recipient)(m)]
