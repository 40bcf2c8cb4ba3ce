"""The suppression list: address hashes that must not receive (some) email, and
contacts that were erased (whose address may never have reached this service)."""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from crm_notification.domain.delivery import SuppressionReason
from crm_shared.mongo.unit_of_work import Tx

SUPPRESSIONS = "suppressions"
ERASED_CONTACTS = "erased_contacts"


class SuppressionRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[SUPPRESSIONS]
        self.erased = db[ERASED_CONTACTS]

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
