"""The fault tests' counters catch what they claim to: a lost or doubled email, a
missing, re-issued or reordered event, a stray firm. (Without this, a zero could
mean that nothing was counted.)"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from email.message import EmailMessage

import pytest

from .figures import FIRM_EVENTS, SENT, Figures, count_emails, count_events, count_outcomes

pytestmark = [pytest.mark.unit]

CREATED, ADDED = FIRM_EVENTS
TAG = "c0ffee00"


@dataclass
class Record:
    """The fields of an aiokafka ConsumerRecord the counter reads."""

    partition: int
    offset: int
    key: bytes
    value: bytes


def record(offset: int, firm: str, kind: str, event_id: str, *, partition: int = 0) -> Record:
    event = {"id": event_id, "type": kind, "data": {"name": f"Faultprobe {TAG} {firm}"}}
    return Record(partition, offset, firm.encode(), json.dumps(event).encode())


def email(to: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = f"Probe <{to}>"
    message["Message-ID"] = message_id
    return message


def firm_records(firm: str, start: int = 0) -> list[Record]:
    return [
        record(start, firm, CREATED, f"{firm}-created"),
        record(start + 1, firm, ADDED, f"{firm}-added"),
    ]


def test_a_clean_run_counts_every_event_once() -> None:
    figures = Figures("clean")
    count_events(figures, firm_records("a") + firm_records("b", 2), {"a", "b"}, TAG)
    assert (figures.events, figures.events_redelivered) == (4, 0)
    assert (figures.lost, figures.duplicated) == (0, 0)
    assert figures.problems() == []


def test_a_redelivery_is_counted_but_is_no_problem() -> None:
    figures = Figures("redelivered")
    records = firm_records("a") + firm_records("a", 2)  # a batch published again
    count_events(figures, records, {"a"}, TAG)
    assert (figures.events, figures.events_redelivered) == (2, 2)
    assert figures.problems() == []


def test_a_missing_event_is_lost() -> None:
    figures = Figures("missing")
    count_events(figures, firm_records("a")[:1], {"a"}, TAG)
    assert figures.events_missing == figures.lost == 1
    assert figures.problems()


def test_the_same_fact_under_a_new_id_is_doubled() -> None:
    figures = Figures("reissued")
    records = [*firm_records("a"), record(2, "a", ADDED, str(uuid.uuid4()))]
    count_events(figures, records, {"a"}, TAG)
    assert figures.events_doubled == figures.duplicated == 1


def test_events_of_a_firm_out_of_order_are_reported() -> None:
    figures = Figures("reordered")
    added_first = [record(0, "a", ADDED, "a-added"), record(1, "a", CREATED, "a-created")]
    count_events(figures, added_first, {"a"}, TAG)
    assert figures.events_out_of_order == ["a"]
    assert figures.problems()


def test_a_firm_nobody_acknowledged_is_a_double() -> None:
    figures = Figures("stray")
    count_events(figures, firm_records("a") + firm_records("ghost", 2), {"a"}, TAG)
    assert figures.firms_doubled == figures.duplicated == 1


def test_emails_are_counted_by_message_id_and_by_recipient() -> None:
    expected = {"x@example.com", "y@example.com", "z@example.com"}
    figures = Figures("emails")
    count_emails(
        figures,
        [
            email("x@example.com", "<1@example.com>"),
            email("x@example.com", "<1@example.com>"),  # the same email sent again
            email("y@example.com", "<2@example.com>"),
        ],
        expected,
    )
    assert (figures.emails, figures.emails_missing, figures.emails_duplicated) == (2, 1, 1)
    assert (figures.lost, figures.duplicated) == (1, 1)


def test_a_missing_email_the_service_reported_unconfirmed_is_shown_not_lost() -> None:
    expected = {"x@example.com", "y@example.com", "z@example.com"}
    figures = Figures("emails")
    arrived = [email("x@example.com", "<1@example.com>")]
    count_emails(figures, arrived, expected, reported_unconfirmed={"y@example.com"})
    assert figures.emails_missing == figures.lost == 1  # z: missing and never reported
    assert figures.details["emails_unconfirmed_never_arrived"] == 1


def sent(offset: int, firm: str, notification_id: str, event_id: str, **data: object) -> Record:
    event = {"id": event_id, "type": SENT, "data": {"notification_id": notification_id, **data}}
    return Record(0, offset, firm.encode(), json.dumps(event).encode())


def test_each_welcome_needs_one_sent_outcome() -> None:
    figures = Figures("outcomes")
    records = [
        sent(0, "a", "n-a", "e1"),
        sent(1, "a", "n-a", "e1"),  # redelivered: fine
        sent(2, "b", "n-b", "e2", confirmed=False),
        sent(3, "b", "n-b", "e3"),  # the same email reported again under a new id
    ]
    count_outcomes(figures, records, {"a", "b", "c"})
    assert (figures.outcomes_missing, figures.outcomes_doubled) == (1, 1)
    assert figures.details["sent_unconfirmed"] == 1
    assert (figures.lost, figures.duplicated) == (1, 1)
