"""Where deliveries live: three collections, shaped for SecantusDB's costs.

- `deliveries`: one small document per notification id (state, version, due time,
  ids). Every state change is a compare-and-set on it; small documents keep
  those updates cheap, and due ones are read by an indexed range on
  (state, next_attempt_at). Holds no personal data (the address only as a hash).
- `payloads`: what is needed to render and address the email (recipient, name,
  context), written once, read in batches, deleted when the contact is erased.
- `attempts`: one document per SMTP attempt, insert-only.

No find_one_and_update anywhere; updates filter by `_id` (or `_id` $in).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from crm_notification.domain.delivery import DeliveryState
from crm_shared.contracts.followup import NotificationRequested
from crm_shared.contracts.vocabulary import Language, NotificationCategory
from crm_shared.mongo.unit_of_work import Tx

DELIVERIES = "deliveries"
PAYLOADS = "payloads"
ATTEMPTS = "attempts"


@dataclass(frozen=True)
class QueuedDelivery:
    """What the dispatcher needs to send one delivery (document + payload)."""

    id: str
    version: int
    enterprise_id: str
    contact_id: str | None
    followup_id: str | None
    template: str
    category: NotificationCategory
    locale: Language
    recipient: str
    recipient_name: str | None
    recipient_hash: str
    context: dict[str, Any]
    attempt_count: int
    attempt_id: str | None = None  # the claim, while `sending`

    @classmethod
    def from_documents(
        cls, doc: dict[str, Any], payload: dict[str, Any] | None
    ) -> "QueuedDelivery":
        payload = payload or {}
        return cls(
            id=doc["_id"],
            version=doc["version"],
            enterprise_id=doc["enterprise_id"],
            contact_id=doc.get("contact_id"),
            followup_id=doc.get("followup_id"),
            template=doc["template"],
            category=NotificationCategory(doc["category"]),
            locale=Language(doc["locale"]),
            recipient=payload.get("recipient") or "",
            recipient_name=payload.get("recipient_name"),
            recipient_hash=doc["recipient_hash"],
            context=payload.get("context") or {},
            attempt_count=doc.get("attempt_count", 0),
            attempt_id=doc.get("attempt_id"),
        )


def new_delivery(
    request: NotificationRequested,
    *,
    event_id: str,
    recipient_hash: str,
    message_id: str,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The delivery document (due at once) and its payload, for a fresh request."""
    delivery = {
        "_id": request.notification_id,
        "version": 0,
        "request_event_id": event_id,
        "enterprise_id": request.enterprise_id,
        "contact_id": request.contact_id,
        "followup_id": request.followup_id,
        "template": request.template,
        "category": request.category.value,
        "locale": request.locale.value,
        "recipient_hash": recipient_hash,
        "message_id": message_id,
        "state": DeliveryState.QUEUED.value,
        "next_attempt_at": now,
        "attempt_count": 0,
        "requested_at": now,
        "updated_at": now,
    }
    payload = {
        "_id": request.notification_id,
        "recipient": request.recipient.strip(),
        "recipient_name": request.recipient_name,
        "context": request.context,
        "timezone": request.timezone,
    }
    return delivery, payload


class DeliveryRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[DELIVERIES]
        self.payloads = db[PAYLOADS]
        self.attempts = db[ATTEMPTS]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [("state", ASCENDING), ("next_attempt_at", ASCENDING)], name="state_due"
        )
        await self.collection.create_index(
            [("enterprise_id", ASCENDING), ("requested_at", DESCENDING)], name="enterprise_time"
        )
        await self.collection.create_index([("contact_id", ASCENDING)], name="contact", sparse=True)
        await self.attempts.create_index([("notification_id", ASCENDING)], name="notification")

    # -- the request consumer (inside its transaction) ---------------------------------

    async def exists(self, tx: Tx, notification_id: str) -> bool:
        found = await self.collection.find_one(
            {"_id": notification_id}, {"_id": 1}, session=tx.session
        )
        return found is not None

    async def insert(
        self, tx: Tx, delivery: dict[str, Any], payload: dict[str, Any] | None
    ) -> None:
        await self.collection.insert_one(delivery, session=tx.session)
        if payload is not None:
            await self.payloads.insert_one(payload, session=tx.session)

    # -- the dispatcher ----------------------------------------------------------------

    async def oldest_queued_at(self) -> datetime | None:
        doc = await self.collection.find_one(
            {"state": DeliveryState.QUEUED.value},
            {"next_attempt_at": 1},
            sort=[("next_attempt_at", ASCENDING)],
        )
        return doc["next_attempt_at"] if doc else None

    async def due(self, upper: datetime, limit: int) -> list[dict[str, Any]]:
        """Queued delivery documents due at or before `upper` (at most `limit`)."""
        cursor = self.collection.find(
            {"state": DeliveryState.QUEUED.value, "next_attempt_at": {"$lte": upper}}
        ).limit(limit)
        docs = await cursor.to_list()
        docs.sort(key=lambda d: d["next_attempt_at"])
        return docs

    async def with_payloads(self, docs: list[dict[str, Any]]) -> list[QueuedDelivery]:
        ids = [d["_id"] for d in docs]
        payloads = {p["_id"]: p async for p in self.payloads.find({"_id": {"$in": ids}})}
        return [QueuedDelivery.from_documents(d, payloads.get(d["_id"])) for d in docs]

    async def claim_many(
        self, ids: list[str], *, token: str, owner: str, now: datetime
    ) -> set[str]:
        """Compare-and-set queued -> sending for a group of deliveries; the ids claimed.

        Any competing change (erasure, another dispatcher) moves a delivery out of
        `queued`, so the state is the condition; the token tells ours apart.
        """
        result = await self.collection.update_many(
            {"_id": {"$in": ids}, "state": DeliveryState.QUEUED.value},
            {
                "$set": {
                    "state": DeliveryState.SENDING.value,
                    "attempt_id": token,
                    "sending_by": owner,
                    "sending_since": now,
                    "next_attempt_at": None,
                    "updated_at": now,
                },
                "$inc": {"version": 1},
            },
        )
        if result.modified_count == len(ids):
            return set(ids)
        docs = await self.collection.find(
            {"_id": {"$in": ids}, "attempt_id": token}, {"_id": 1}
        ).to_list()
        return {d["_id"] for d in docs}

    async def sending(self) -> list[dict[str, Any]]:
        """Deliveries claimed for sending (few: only those between claim and record)."""
        return await self.collection.find({"state": DeliveryState.SENDING.value}).to_list()

    async def update(self, tx: Tx, guard: dict[str, Any], update: dict[str, Any]) -> bool:
        """Compare-and-set one delivery (`guard` names its `_id`); True if it matched."""
        result = await self.collection.update_one(guard, update, session=tx.session)
        return result.matched_count == 1

    async def suppress_queued(
        self, tx: Tx, delivery_id: str, reason: str, *, version: int | None = None
    ) -> bool:
        """Compare-and-set queued -> suppressed (at `version`, if given); True if it was
        still queued. The dispatcher claims by the same compare-and-set on `queued`, so
        a delivery it holds in an SMTP transaction is then not claimed."""
        guard: dict[str, Any] = {"_id": delivery_id, "state": DeliveryState.QUEUED.value}
        if version is not None:
            guard["version"] = version
        change = {
            "state": DeliveryState.SUPPRESSED.value,
            "suppression_reason": reason,
            "next_attempt_at": None,
            "updated_at": tx.now,
        }
        return await self.update(tx, guard, {"$set": change, "$inc": {"version": 1}})

    async def update_group(
        self, tx: Tx, ids: list[str], guard: dict[str, Any], update: dict[str, Any]
    ) -> int:
        """The same change on several deliveries at once; how many matched."""
        query = {"_id": {"$in": ids}, **guard}
        result = await self.collection.update_many(query, update, session=tx.session)
        return result.matched_count

    async def add_attempts(self, tx: Tx, entries: list[dict[str, Any]]) -> None:
        if entries:
            await self.attempts.insert_many(entries, session=tx.session, ordered=False)

    # -- erasure, unsubscribe, the API --------------------------------------------------

    async def of_contact(self, tx: Tx, contact_id: str) -> list[dict[str, Any]]:
        return await self.collection.find(
            {"contact_id": contact_id},
            {
                "state": 1,
                "recipient_hash": 1,
                "enterprise_id": 1,
                "template": 1,
                "followup_id": 1,
                "category": 1,
            },
            session=tx.session,
        ).to_list()

    async def forget(self, tx: Tx, ids: list[str]) -> None:
        """Delete the personal data of these deliveries (and their attempts' answers)."""
        if ids:
            await self.payloads.delete_many({"_id": {"$in": ids}}, session=tx.session)

    async def get(self, notification_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": notification_id})

    async def for_enterprise(
        self, enterprise_id: str, *, limit: int, before: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Newest first, each with `recipient` (None once erased) and its `attempts`."""
        query: dict[str, Any] = {"enterprise_id": enterprise_id}
        if before is not None:
            query["requested_at"] = {"$lt": before}
        cursor = self.collection.find(query).sort("requested_at", DESCENDING).limit(limit)
        docs = await cursor.to_list()
        ids = [d["_id"] for d in docs]
        recipients = {
            p["_id"]: p.get("recipient")
            async for p in self.payloads.find({"_id": {"$in": ids}}, {"recipient": 1})
        }
        attempts: dict[str, list[dict[str, Any]]] = {}
        async for entry in self.attempts.find({"notification_id": {"$in": ids}}):
            attempts.setdefault(entry["notification_id"], []).append(entry)
        for doc in docs:
            doc["recipient"] = recipients.get(doc["_id"])
            doc["attempts"] = sorted(attempts.get(doc["_id"], []), key=lambda a: a["number"])
        return docs
