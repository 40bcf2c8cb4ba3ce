"""Transactional outbox: events are stored with the state change that caused them.

`Outbox.add` writes event records inside the caller's MongoDB transaction; the
relay (`crm_shared.kafka.relay`) publishes them later, in `created_at` order.
"""

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bson import Binary, ObjectId
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from crm_shared.contracts import CONTENT_TYPE, CloudEvent, utcnow
from crm_shared.contracts.erasure import personal_values, scrub_event_bytes

OUTBOX_COLLECTION = "outbox"
BATCHES_COLLECTION = "outbox_batches"
# A record is `pending` until a relay claims it into a batch (`batched`, with the
# batch's token in `claim`); the batch document says whether it was published.
# One write per record instead of two keeps the relay ahead of the writers.
PENDING = "pending"
BATCHED = "batched"


def outbox_record(event: CloudEvent[Any], created_at: datetime | None = None) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "event_id": str(event.id),
        "type": event.type,
        "topic": event.data.topic.name,
        "key": event.subject,
        "value": Binary(event.to_json()),
        "headers": [
            ["content-type", CONTENT_TYPE],
            ["ce_id", str(event.id)],
            ["ce_type", event.type],
        ],
        "state": PENDING,
        "created_at": created_at or utcnow(),
    }


class Outbox:
    """The outbox collection of one service database."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[OUTBOX_COLLECTION]
        self.batches = db[BATCHES_COLLECTION]

    async def ensure_indexes(self) -> None:
        # The relay claims by an indexed range (SecantusDB scans on most other shapes),
        # then reads and settles exactly its own batch by the claim token.
        await self.collection.create_index(
            [("state", ASCENDING), ("created_at", ASCENDING)], name="state_created"
        )
        await self.collection.create_index(
            [("claim", ASCENDING), ("created_at", ASCENDING)], name="claim_created", sparse=True
        )
        await self.collection.create_index([("key", ASCENDING)], name="key")
        await self.batches.create_index(
            [("published_at", ASCENDING), ("claimed_at", ASCENDING)], name="unpublished"
        )

    async def add(self, session: AsyncClientSession, events: Iterable[CloudEvent[Any]]) -> None:
        """Store events in the caller's transaction (no transaction: a programming error)."""
        if not session.in_transaction:
            raise RuntimeError("outbox records must be written inside a transaction")
        records = [outbox_record(event) for event in events]
        if records:
            await self.collection.insert_many(records, session=session, ordered=True)

    async def unpublished_count(self) -> int:
        """Records not yet acknowledged by Kafka: pending, or in a batch still in flight."""
        in_flight = await self.batches.distinct("_id", {"published_at": None})
        pending = await self.collection.count_documents({"state": PENDING})
        if not in_flight:
            return pending
        return pending + await self.collection.count_documents({"claim": {"$in": in_flight}})

    async def published_count(self) -> int:
        published = self.batches.find({"published_at": {"$ne": None}}, {"count": 1})
        return sum([batch["count"] async for batch in published])

    async def erase_contact(self, session: AsyncClientSession, key: str, contact_id: str) -> int:
        """Erase a contact's personal data from this firm's stored events; return how many changed.

        Published records are kept (they are the service's record of what it said), scrubbed.
        """
        records = await self.collection.find({"key": key}, {"value": 1}, session=session).to_list()
        documents = {r["_id"]: json.loads(r["value"]) for r in records}
        secrets = personal_values(documents.values(), contact_id)
        changed = 0
        for record in records if secrets else []:
            cleaned = scrub_event_bytes(bytes(record["value"]), secrets)
            if cleaned is not None:
                await self.collection.update_one(
                    {"_id": record["_id"]}, {"$set": {"value": Binary(cleaned)}}, session=session
                )
                changed += 1
        return changed
