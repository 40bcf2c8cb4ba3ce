"""The suppression list: address hashes that must not receive (some) email, and
contacts that were erased or withdrew their email consent (by contact id: their
address may never have reached this service, or may change)."""

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from crm_notification.domain.delivery import SuppressionReason
from crm_shared.mongo.unit_of_work import Tx

SUPPRESSIONS = "suppressions"
ERASED_CONTACTS = "erased_contacts"
OPTED_OUT_CONTACTS = "opted_out_contacts"


class SuppressionRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[SUPPRESSIONS]
        self.erased = db[ERASED_CONTACTS]
        self.opted_out_contacts = db[OPTED_OUT_CONTACTS]

    async def ensure_indexes(self) -> None:
        # Renewed consent lifts the unsubscribes a contact made (only those carry an origin).
        await self.collection.create_index(
            [("origin.contact_id", ASCENDING)], name="origin_contact", sparse=True
        )

    async def reason(self, tx: Tx, address_hash: str) -> SuppressionReason | None:
        doc = await self.collection.find_one({"_id": address_hash}, session=tx.session)
        return SuppressionReason(doc["reason"]) if doc else None

    async def reasons(self, address_hashes: list[str]) -> dict[str, SuppressionReason]:
        docs = await self.collection.find({"_id": {"$in": address_hashes}}).to_list()
        return {d["_id"]: SuppressionReason(d["reason"]) for d in docs}

    async def add(
        self,
        tx: Tx,
        address_hash: str,
        reason: SuppressionReason,
        *,
        now: datetime,
        origin: dict[str, Any] | None = None,
    ) -> bool:
        """Suppress an address; True if it was not suppressed before. An erasure
        overrides an earlier reason (it is the one that must never be lifted)."""
        existing = await self.collection.find_one({"_id": address_hash}, session=tx.session)
        if existing is not None:
            if reason is SuppressionReason.ERASED and existing["reason"] != reason.value:
                await self.collection.update_one(
                    {"_id": address_hash},
                    {"$set": {"reason": reason.value, "updated_at": now}, "$unset": {"origin": ""}},
                    session=tx.session,
                )
            return False
        document: dict[str, Any] = {"_id": address_hash, "reason": reason.value, "created_at": now}
        if origin and reason is not SuppressionReason.ERASED:
            document["origin"] = origin
        await self.collection.insert_one(document, session=tx.session)
        return True

    async def contact_erased(self, tx: Tx, contact_id: str) -> bool:
        found = await self.erased.find_one({"_id": contact_id}, {"_id": 1}, session=tx.session)
        return found is not None

    async def mark_erased(self, tx: Tx, contact_id: str, *, now: datetime) -> None:
        await self.erased.update_one(
            {"_id": contact_id},
            {"$setOnInsert": {"erased_at": now}},
            upsert=True,
            session=tx.session,
        )

    # -- email consent (contact.consent_changed) ---------------------------------------

    async def contact_opted_out(self, tx: Tx, contact_id: str) -> bool:
        found = await self.opted_out_contacts.find_one(
            {"_id": contact_id}, {"_id": 1}, session=tx.session
        )
        return found is not None

    async def contact_reasons(self, contact_ids: list[str]) -> dict[str, SuppressionReason]:
        """Which of these contacts were erased or withdrew consent (two reads for a
        batch): the dispatcher's last look, for a request that was queued while the
        erasure or opt-out was being handled in another transaction."""
        if not contact_ids:
            return {}
        query = {"_id": {"$in": contact_ids}}
        reasons = {
            d["_id"]: SuppressionReason.NO_CONSENT
            for d in await self.opted_out_contacts.find(query, {"_id": 1}).to_list()
        }
        for doc in await self.erased.find(query, {"_id": 1}).to_list():
            reasons[doc["_id"]] = SuppressionReason.ERASED
        return reasons

    async def mark_opted_out(
        self, tx: Tx, contact_id: str, *, now: datetime, reason: str | None
    ) -> None:
        """Record the opt-out; a repeated one keeps the first `since`."""
        await self.opted_out_contacts.update_one(
            {"_id": contact_id},
            {"$setOnInsert": {"since": now, "reason": reason}},
            upsert=True,
            session=tx.session,
        )

    async def clear_opted_out(self, tx: Tx, contact_id: str) -> bool:
        result = await self.opted_out_contacts.delete_one({"_id": contact_id}, session=tx.session)
        return result.deleted_count == 1

    async def lift_unsubscribed(self, tx: Tx, contact_id: str) -> int:
        """Remove the `unsubscribed` entries this contact made through an unsubscribe
        link (the page stores who it was); bounces and erasures are never lifted."""
        result = await self.collection.delete_many(
            {"origin.contact_id": contact_id, "reason": SuppressionReason.UNSUBSCRIBED.value},
            session=tx.session,
        )
        return result.deleted_count
