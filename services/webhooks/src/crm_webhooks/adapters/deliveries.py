"""Deliveries in MongoDB (`deliveries`): one event for one subscription, with its attempt log.

Claiming follows SecantusDB's fast shapes: an indexed range `find` over
(status, next_attempt_at) names the candidates, then a compare-and-set
`update_one` by `_id` takes each. While a delivery is `sending`, its
`next_attempt_at` is the end of the sender's lease: a sender that died leaves it
to be taken again after that (the receiver dedupes by `webhook-id`).
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import Binary, ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from crm_shared.contracts.erasure import personal_values, scrub_event_bytes
from crm_webhooks.domain.states import DeliveryStatus

COLLECTION = "deliveries"
ERROR_EXCERPT = 300


@dataclass(frozen=True)
class AttemptRecord:
    number: int
    at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    accepted: bool

    def as_document(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "at": self.at,
            "duration_ms": self.duration_ms,
            "status_code": self.status_code,
            "error": self.error[:ERROR_EXCERPT] if self.error else None,
            "outcome": "accepted" if self.accepted else "failed",
        }


def delivery_document(
    subscription_id: str,
    *,
    event_id: str,
    event_type: str,
    subject: str,
    body: bytes,
    status: DeliveryStatus,
    now: datetime,
) -> dict[str, Any]:
    return {
        # One delivery per (subscription, event), whatever redelivery Kafka does.
        "_id": f"{subscription_id}:{event_id}",
        "seq": ObjectId(),  # creation order, for the log's cursor pagination
        "subscription_id": subscription_id,
        "event_id": event_id,
        "event_type": event_type,
        "subject": subject,
        "body": Binary(body),
        "status": status.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "log": [],
    }


class DeliveryRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="status_next_attempt"
        )
        await self.collection.create_index(
            [("subscription_id", ASCENDING), ("seq", DESCENDING)], name="subscription_seq"
        )
        await self.collection.create_index(
            [("subscription_id", ASCENDING), ("status", ASCENDING)], name="subscription_status"
        )
        await self.collection.create_index([("subject", ASCENDING)], name="subject")

    async def erase_contact(
        self, session: AsyncClientSession, subject: str, contact_id: str
    ) -> int:
        """Scrub a contact's personal data from the stored bodies of a firm's deliveries."""
        stored = await self.collection.find(
            {"subject": subject}, {"body": 1}, session=session
        ).to_list()
        secrets = personal_values((json.loads(d["body"]) for d in stored), contact_id)
        changed = 0
        for delivery in stored if secrets else []:
            cleaned = scrub_event_bytes(bytes(delivery["body"]), secrets)
            if cleaned is not None:
                await self.collection.update_one(
                    {"_id": delivery["_id"]},
                    {"$set": {"body": Binary(cleaned)}},
                    session=session,
                )
                changed += 1
        return changed

    async def add_many(self, session: AsyncClientSession, documents: list[dict[str, Any]]) -> None:
        if documents:
            await self.collection.insert_many(documents, session=session, ordered=True)

    async def due(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        return (
            await self.collection.find(
                {"status": DeliveryStatus.PENDING.value, "next_attempt_at": {"$lte": now}}
            )
            .sort("next_attempt_at", ASCENDING)
            .limit(limit)
            .to_list()
        )

    async def claim(self, delivery: dict[str, Any], now: datetime, lease: timedelta) -> bool:
        taken = await self.collection.update_one(
            {
                "_id": delivery["_id"],
                "status": DeliveryStatus.PENDING.value,
                "next_attempt_at": delivery["next_attempt_at"],
            },
            {"$set": {"status": DeliveryStatus.SENDING.value, "next_attempt_at": now + lease}},
        )
        return taken.modified_count == 1

    async def release_expired_leases(self, now: datetime, limit: int) -> int:
        """Deliveries whose sender died mid-attempt become pending again."""
        stuck = (
            await self.collection.find(
                {"status": DeliveryStatus.SENDING.value, "next_attempt_at": {"$lte": now}},
                {"next_attempt_at": 1},
            )
            .limit(limit)
            .to_list()
        )
        released = 0
        for delivery in stuck:
            result = await self.collection.update_one(
                {
                    "_id": delivery["_id"],
                    "status": DeliveryStatus.SENDING.value,
                    "next_attempt_at": delivery["next_attempt_at"],
                },
                {"$set": {"status": DeliveryStatus.PENDING.value, "next_attempt_at": now}},
            )
            released += result.modified_count
        return released

    async def record_attempt(
        self,
        delivery_id: str,
        attempt: AttemptRecord,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> None:
        fields: dict[str, Any] = {
            "status": status.value,
            "attempts": attempt.number,
            "last_attempt_at": attempt.at,
            "last_status_code": attempt.status_code,
            "last_error": attempt.error[:ERROR_EXCERPT] if attempt.error else None,
        }
        if next_attempt_at is not None:
            fields["next_attempt_at"] = next_attempt_at
        if attempt.accepted:
            fields["delivered_at"] = attempt.at
        await self.collection.update_one(
            {"_id": delivery_id, "status": DeliveryStatus.SENDING.value},
            {"$set": fields, "$push": {"log": attempt.as_document()}},
        )

    async def set_status(self, delivery_id: str, old: DeliveryStatus, new: DeliveryStatus) -> None:
        await self.collection.update_one(
            {"_id": delivery_id, "status": old.value}, {"$set": {"status": new.value}}
        )

    async def move_all(
        self, subscription_id: str, old: list[DeliveryStatus], new: DeliveryStatus, now: datetime
    ) -> int:
        """E.g. resume paused deliveries (due now) or cancel the waiting ones of a deletion."""
        result = await self.collection.update_many(
            {"subscription_id": subscription_id, "status": {"$in": [s.value for s in old]}},
            {"$set": {"status": new.value, "next_attempt_at": now}},
        )
        return result.modified_count

    async def listed(
        self,
        subscription_id: str,
        *,
        status: DeliveryStatus | None,
        before: ObjectId | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"subscription_id": subscription_id}
        if before is not None:
            query["seq"] = {"$lt": before}
        if status is not None:
            query["status"] = status.value
        return (
            await self.collection.find(query, {"body": 0})
            .sort("seq", DESCENDING)
            .limit(limit)
            .to_list()
        )
