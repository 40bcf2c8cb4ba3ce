"""The notification service's database work per email, done by the raw database alone.

No rendering, no SMTP, no code of ours between the driver and the server: for
queued deliveries of the service's own shape and indexes, the claim (one
compare-and-set `update_many` per group of lanes) and the record (one
transaction per batch: the deliveries marked sent, an attempt entry each and one
outbox record holding the batch's outcome events). Its rate, next to the bare SMTP loop,
shows what the bookkeeping costs on SecantusDB before any of our code runs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import AsyncMongoClient

from bench.harness import Stopwatch
from crm_notification.adapters.deliveries import DeliveryRepository, new_delivery
from crm_notification.dispatch import outcomes
from crm_shared.contracts import CloudEvent
from crm_shared.contracts.envelope import new_event
from crm_shared.contracts.followup import NotificationRequested
from crm_shared.mongo.outbox import outbox_record

CLAIM_GROUP = 8  # about what 16 lanes reach the end of their content together
RECORD_BATCH = 16  # about what the recorder gathers per transaction


def _sent_event(request: NotificationRequested) -> CloudEvent[Any]:
    who = outcomes.Identity.of_request(request)
    event = outcomes.sent(
        who, message_id=f"<{request.notification_id}@example.com>", sent_at=datetime.now(UTC),
        attempts=1,
    )  # fmt: skip
    return new_event(event, service="notification", subject=request.enterprise_id)


async def _record(
    db: Any, session: Any, batch: list[str], token: str, sent: list[CloudEvent[Any]], now: datetime
) -> None:
    await db.deliveries.update_many(
        {"_id": {"$in": batch}, "state": "sending", "attempt_id": token},
        {"$set": {"state": "sent", "sent_at": now},
         "$inc": {"version": 1, "attempt_count": 1},
         "$unset": {"attempt_id": "", "sending_since": ""}},
        session=session,
    )  # fmt: skip
    await db.attempts.insert_many(
        [{"_id": f"{i}#1", "notification_id": i, "number": 1, "attempt_id": token,
          "started_at": now, "finished_at": now, "result": "sent", "stage": "end_of_data",
          "smtp_code": 250, "smtp_response": "Message accepted for delivery"} for i in batch],
        session=session,
    )  # fmt: skip
    await db.outbox.insert_one(outbox_record(sent), session=session)


async def bookkeeping_rate(mongo_uri: str, requests: list[NotificationRequested]) -> float:
    """Emails' worth of claims and records per second, on a fresh database."""
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True)
    db = client[f"bench_notification_raw_{uuid.uuid4().hex[:6]}"]
    try:
        await DeliveryRepository(db).ensure_indexes()
        now = datetime.now(UTC)
        documents = [
            new_delivery(r, event_id=f"raw-{n}", recipient_hash=f"hash-{n}",
                         message_id=f"<{r.notification_id}@example.com>", now=now)[0]
            for n, r in enumerate(requests)
        ]  # fmt: skip
        await db.deliveries.insert_many(documents)
        events = [_sent_event(r) for r in requests]
        ids = [d["_id"] for d in documents]
        with Stopwatch() as watch:
            for start in range(0, len(ids), RECORD_BATCH):
                batch = ids[start : start + RECORD_BATCH]
                token = uuid.uuid4().hex
                for group in range(0, len(batch), CLAIM_GROUP):
                    await db.deliveries.update_many(
                        {"_id": {"$in": batch[group : group + CLAIM_GROUP]}, "state": "queued"},
                        {"$set": {"state": "sending", "attempt_id": token, "sending_since": now},
                         "$inc": {"version": 1}},
                    )  # fmt: skip
                sent = events[start : start + len(batch)]
                async with client.start_session() as session:
                    await session.with_transaction(
                        lambda s, b=batch, t=token, r=sent: _record(db, s, b, t, r, now)
                    )
        return watch.rate(len(ids))
    finally:
        await client.drop_database(db.name)
        await client.close()
