"""Append-only records: stage history, the audit log, the activity learned from other
services' events, and idempotency keys. Plus erasure's rewrite of any of them."""

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from crm_intake.adapters.documents import to_bson
from crm_intake.adapters.repositories import Session
from crm_intake.domain.records import scrub
from crm_shared.mongo.outbox import Outbox


class EnterpriseRecords:
    """A collection of entries, each about one enterprise, read back in time order."""

    def __init__(self, collection: AsyncCollection) -> None:
        self.collection = collection

    async def add(self, entry: dict[str, Any], session: Session) -> None:
        await self.collection.insert_one(to_bson(entry), session=session)

    async def add_many(self, entries: list[dict[str, Any]], session: Session) -> None:
        await self.collection.insert_many([to_bson(e) for e in entries], session=session)

    async def of_enterprise(
        self, enterprise_id: str, session: Session = None
    ) -> list[dict[str, Any]]:
        cursor = self.collection.find({"enterprise_id": enterprise_id}, session=session).sort(
            "at", ASCENDING
        )
        return await cursor.to_list()

    async def about_contact(self, contact_id: str, session: Session = None) -> list[dict[str, Any]]:
        return await self.collection.find({"contact_id": contact_id}, session=session).to_list()

    async def move(self, from_id: str, to_id: str, session: Session) -> int:
        result = await self.collection.update_many(
            {"enterprise_id": from_id},
            {"$set": {"enterprise_id": to_id, "moved_from": from_id}},
            session=session,
        )
        return result.modified_count


class Activity(EnterpriseRecords):
    async def record(self, entry: dict[str, Any], session: Session) -> bool:
        """Insert once per event id (`_id`): a redelivered event changes nothing."""
        try:
            await self.collection.insert_one(to_bson(entry), session=session)
        except DuplicateKeyError:
            return False
        return True


class IdempotencyKeys:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["idempotency_keys"]

    async def get(self, key_id: str, session: Session) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": key_id}, session=session)

    async def put(
        self, key_id: str, *, fingerprint: str, enterprise_id: str, at: datetime, session: Session
    ) -> None:
        await self.collection.insert_one(
            {
                "_id": key_id,
                "fingerprint": fingerprint,
                "enterprise_id": enterprise_id,
                "created_at": at,
            },
            session=session,
        )


class Scrubber:
    """Rewrites stored documents so that given strings (a person's data) appear nowhere."""

    def __init__(self, db: AsyncDatabase, replacement: str) -> None:
        self.db = db
        self.replacement = replacement

    async def documents(
        self,
        collection: str,
        query: dict[str, Any],
        secrets: list[str],
        session: Session,
        *,
        bump_version: bool = False,
    ) -> int:
        changed = 0
        async for document in self.db[collection].find(query, session=session):
            cleaned = scrub(document, secrets, self.replacement)
            if cleaned != document:
                if bump_version:  # a writer holding the old text must not write it back
                    cleaned["version"] = document.get("version", 0) + 1
                await self.db[collection].replace_one(
                    {"_id": document["_id"]}, cleaned, session=session
                )
                changed += 1
        return changed

    async def outbox(self, keys: Iterable[str], secrets: list[str], session: Session) -> int:
        """Event records of these firms, published or not: consumers get the tombstone too."""

        def rewrite(value: bytes) -> bytes | None:
            event = json.loads(value)
            cleaned = scrub(event, secrets, self.replacement)
            return None if cleaned == event else json.dumps(cleaned, ensure_ascii=False).encode()

        return await Outbox(self.db).rewrite_events(session, keys, rewrite)
