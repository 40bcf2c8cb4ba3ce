"""What a fault cost, counted at the business level once the system has settled.

- firms: intake lists every acknowledged firm exactly once, and no other firm of the run;
- lifecycle events: `enterprise.created` then `contact.added` for each firm on
  crm.enterprise.lifecycle.v1, deduplicated by event id (a redelivery is allowed and
  counted; consumers skip it), in that order within the firm's partition;
- welcome emails: one per contact at the SMTP sink, counted by Message-ID and by recipient;
  one the service recorded as `unconfirmed` (killed between its claim and the final ".",
  the window the notification README accepts) may be missing, and is shown.

"Settled" is a condition, not a pause: every outbox drained (nothing pending, no batch
in flight), no welcome follow-up still due or claimed, no delivery queued or being sent,
and every consumer group caught up with the end of the topics it reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from pymongo import AsyncMongoClient

from crm_devstack import SmtpSink
from crm_shared.contracts.topics import LIFECYCLE, NOTIFICATION, Topic
from support import TopicReader

from ..stack import Stack
from .burst import Burst
from .figures import Figures, count_emails, count_events, count_outcomes, recipients
from .groups import consumer_lag, end_offsets, groups_of

OUTBOX_SERVICES = ("intake", "followup", "notification")


# -- settling ----------------------------------------------------------------------------


async def unsettled_work(stack: Stack, mongo: AsyncMongoClient[dict[str, Any]]) -> dict[str, int]:
    """Work still in the databases: unpublished outbox records, open follow-ups and sends."""
    work: dict[str, int] = {}
    for name in OUTBOX_SERVICES:
        db = mongo[stack.database(name)]
        work[f"{name}.outbox_pending"] = await db.outbox.count_documents({"state": "pending"})
        work[f"{name}.batches_in_flight"] = await db.outbox_batches.count_documents(
            {"published_at": None}
        )
    followup = mongo[stack.database("followup")]
    work["followup.welcome_open"] = await followup.followups.count_documents(
        {"rule": "welcome", "status": {"$in": ["pending", "claimed"]}}
    )
    notification = mongo[stack.database("notification")]
    work["notification.open_deliveries"] = await notification.deliveries.count_documents(
        {"state": {"$in": ["queued", "sending"]}}
    )
    return work


async def unconfirmed_never_arrived(
    stack: Stack, mongo: AsyncMongoClient[dict[str, Any]], emails: list[EmailMessage]
) -> set[str]:
    """Recipients of deliveries recorded `unconfirmed` whose Message-ID is not in the sink."""
    notification = mongo[stack.database("notification")]
    arrived = {str(m["Message-ID"]) for m in emails}
    unconfirmed = await notification.deliveries.find(
        {"state": "unconfirmed"}, {"message_id": 1}
    ).to_list()
    ids = [d["_id"] for d in unconfirmed if d["message_id"] not in arrived]
    payloads = await notification.payloads.find({"_id": {"$in": ids}}, {"recipient": 1}).to_list()
    return {p["recipient"] for p in payloads}


@dataclass
class Settling:
    """Polled until the run is over; keeps the last look for the failure message."""

    stack: Stack
    mongo: AsyncMongoClient[dict[str, Any]]
    kafka_bootstrap: str
    sink: SmtpSink
    burst: Burst
    last: dict[str, Any] = field(default_factory=dict)
    began: float = field(default_factory=time.monotonic)
    all_emails_after: float | None = None  # seconds from the end of the burst

    async def settled(self) -> bool:
        arrived = welcome_emails(self.sink, self.burst.tag)
        emails = len(arrived)
        self.last = {"emails": emails}
        if emails < self.burst.count:
            try:
                reported = await unconfirmed_never_arrived(self.stack, self.mongo, arrived)
            except Exception as error:  # a server still coming back: look again
                self.last["error"] = repr(error)
                return False
            self.last["unconfirmed_never_arrived"] = len(reported)
            if emails + len(reported) < self.burst.count:
                return False
        if self.all_emails_after is None:
            self.all_emails_after = time.monotonic() - self.began
        try:
            work = await unsettled_work(self.stack, self.mongo)
            lag = await consumer_lag(self.kafka_bootstrap, groups_of(self.stack))
        except Exception as error:  # a server still coming back: look again
            self.last["error"] = repr(error)
            return False
        self.last |= {"work": work, "lag": lag}
        return not any(work.values()) and not any(lag.values())


# -- counting ------------------------------------------------------------------------


def welcome_emails(sink: SmtpSink, tag: str) -> list[EmailMessage]:
    marker = f"fault.{tag}."
    return [m for m in sink.messages() if any(marker in r for r in recipients(m))]


async def listed_firms(stack: Stack, tag: str) -> list[str]:
    """Ids of every firm intake lists under the run's tag, page after page."""
    ids: list[str] = []
    cursor: str | None = None
    async with stack.client("intake") as http:
        while True:
            params: dict[str, Any] = {"q": tag, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            response = await http.get("/api/v1/enterprises", params=params)
            response.raise_for_status()
            page = response.json()
            ids += [item["id"] for item in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                return ids


async def read_to_end(bootstrap: str, topic: Topic) -> list[Any]:
    """Every record of `topic` up to its end offsets as of now (nothing is in flight)."""
    ends = {tp.partition: end for tp, end in (await end_offsets(bootstrap, [topic])).items()}

    def complete(records: list[Any]) -> bool:
        seen: dict[int, int] = {}
        for record in records:
            seen[record.partition] = max(seen.get(record.partition, -1), record.offset)
        return all(seen.get(p, -1) >= end - 1 for p, end in ends.items() if end > 0)

    async with TopicReader(bootstrap, topic.name) as reader:
        return await reader.read_until(complete, timeout=120)


async def count(
    fault: str,
    stack: Stack,
    mongo: AsyncMongoClient[dict[str, Any]],
    burst: Burst,
    kafka_bootstrap: str,
    sink: SmtpSink,
    started: float,
) -> Figures:
    figures = Figures(fault)
    acknowledged = burst.enterprise_ids()

    listed = await listed_firms(stack, burst.tag)
    figures.firms = len(set(listed))
    figures.firms_missing = len(acknowledged - set(listed))
    figures.firms_doubled = (len(listed) - len(set(listed))) + len(set(listed) - acknowledged)

    records = await read_to_end(kafka_bootstrap, LIFECYCLE)
    count_events(figures, records, acknowledged, burst.tag)

    emails = welcome_emails(sink, burst.tag)
    reported = await unconfirmed_never_arrived(stack, mongo, emails)
    count_emails(figures, emails, burst.emails(), reported)
    count_outcomes(figures, await read_to_end(kafka_bootstrap, NOTIFICATION), acknowledged)
    figures.seconds = time.monotonic() - started
    figures.details |= {
        "retried_requests": burst.retried,
        "replayed_by_key": burst.replayed,
        "transport_errors": burst.transport_errors,
        "server_errors": burst.server_errors,
        "failed_statuses": ",".join(f"{code}x{n}" for code, n in burst.failed_statuses.items())
        or "none",
    }
    return figures
