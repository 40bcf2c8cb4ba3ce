"""Webhook subscriptions in MongoDB (`subscriptions`): URL, filters, secret, health."""

import secrets
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from crm_webhooks.domain.states import SubscriptionStatus

COLLECTION = "subscriptions"


def new_subscription_id() -> str:
    return f"wh_{secrets.token_hex(8)}"


class SubscriptionRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("status", ASCENDING)], name="status")

    async def add(
        self,
        *,
        url: str,
        event_types: list[str],
        description: str | None,
        secret: str,
        created_by: str,
        now: datetime,
    ) -> dict[str, Any]:
        document = {
            "_id": new_subscription_id(),
            "url": url,
            "event_types": event_types,
            "description": description,
            # Kept to sign deliveries; returned to the caller only in the creation response.
            "secret": secret,
            "status": SubscriptionStatus.ACTIVE.value,
            "consecutive_failures": 0,
            "created_at": now,
            "created_by": created_by,
            "updated_at": now,
        }
        await self.collection.insert_one(document)
        return document

    async def get(self, subscription_id: str) -> dict[str, Any] | None:
        document = await self.collection.find_one({"_id": subscription_id})
        if document is None or document["status"] == SubscriptionStatus.DELETED:
            return None
        return document

    async def get_many(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        found = await self.collection.find({"_id": {"$in": ids}}).to_list()
        return {document["_id"]: document for document in found}

    async def listed(self) -> list[dict[str, Any]]:
        wanted = [SubscriptionStatus.ACTIVE.value, SubscriptionStatus.DISABLED.value]
        return await self.collection.find({"status": {"$in": wanted}}).sort("created_at").to_list()

    async def receiving(self, session: AsyncClientSession) -> list[dict[str, Any]]:
        """Subscriptions that collect new deliveries (a disabled one keeps them paused)."""
        wanted = [SubscriptionStatus.ACTIVE.value, SubscriptionStatus.DISABLED.value]
        return await self.collection.find(
            {"status": {"$in": wanted}}, {"event_types": 1, "status": 1}, session=session
        ).to_list()

    async def delete(self, subscription_id: str, now: datetime) -> bool:
        result = await self.collection.update_one(
            {"_id": subscription_id, "status": {"$ne": SubscriptionStatus.DELETED.value}},
            {"$set": {"status": SubscriptionStatus.DELETED.value, "updated_at": now}},
        )
        return result.modified_count == 1

    async def enable(self, subscription_id: str, now: datetime) -> bool:
        result = await self.collection.update_one(
            {"_id": subscription_id, "status": {"$ne": SubscriptionStatus.DELETED.value}},
            {
                "$set": {
                    "status": SubscriptionStatus.ACTIVE.value,
                    "consecutive_failures": 0,
                    "updated_at": now,
                },
                "$unset": {"disabled_at": "", "disabled_reason": ""},
            },
        )
        return result.matched_count == 1

    async def record_success(self, subscription_id: str, now: datetime) -> None:
        await self.collection.update_one(
            {"_id": subscription_id},
            {"$set": {"consecutive_failures": 0, "last_success_at": now}},
        )

    async def record_failure(self, subscription_id: str, now: datetime) -> int:
        """Count one more failed attempt in a row; return the run's length."""
        await self.collection.update_one(
            {"_id": subscription_id},
            {"$inc": {"consecutive_failures": 1}, "$set": {"last_failure_at": now}},
        )
        document = await self.collection.find_one(
            {"_id": subscription_id}, {"consecutive_failures": 1}
        )
        return int(document["consecutive_failures"]) if document else 0

    async def disable(self, subscription_id: str, reason: str, now: datetime) -> bool:
        """Disable an active subscription (compare-and-set: only one replica reports it)."""
        result = await self.collection.update_one(
            {"_id": subscription_id, "status": SubscriptionStatus.ACTIVE.value},
            {
                "$set": {
                    "status": SubscriptionStatus.DISABLED.value,
                    "disabled_at": now,
                    "disabled_reason": reason,
                    "updated_at": now,
                }
            },
        )
        return result.modified_count == 1
