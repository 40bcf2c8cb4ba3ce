"""Transactional outbox: events are stored with the state change that caused them.

`Outbox.add` writes event records inside the caller's MongoDB transaction; the
relay (`crm_shared.kafka.relay`) publishes them later, in `created_at` order.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bson import Binary, ObjectId
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from crm_shared.contracts import CONTENT_TYPE, CloudEvent, utcnow

OUTBOX_COLLECTION = "outbox"
# A record moves pending -> claimed (by one relay batch) -> published.
PENDING = "pending"
CLAIMED = "claimed"
PUBLISHED = "published"


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

    async def ensure_indexes(self) -> None:
        # The relay claims by an indexed range (SecantusDB scans on most other shapes),
        # then reads and settles exactly its own batch by the claim token.
        await self.collection.create_index(
            [("state", ASCENDING), ("created_at", ASCENDING)], name="state_created"
        )
        await self.collection.create_index(
            [("claim", ASCENDING), ("created_at", ASCENDING)], name="claim_created", sparse=True
        )

    async def add(self, session: AsyncClientSession, events: Iterable[CloudEvent[Any]]) -> None:
        """Store events in the caller's transaction (no transaction: a programming error)."""
        if not session.in_transaction:
            raise RuntimeError("outbox records must be written inside a transaction")
        records = [outbox_record(event) for event in events]
        if records:
            await self.collection.insert_many(records, session=session, ordered=True)

    async def unpublished_count(self) -> int:
        return await self.collection.count_documents({"state": {"$in": [PENDING, CLAIMED]}})
