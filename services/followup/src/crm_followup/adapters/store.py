"""Collections of the follow-up database and the query shapes that stay fast at 1M follow-ups.

SecantusDB scans the whole collection for most filters that are not `_id` or an
indexed range, so every read here is either by `_id` (or `_id: {$in}`) or an
indexed range, and every write is by `_id`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from crm_followup.adapters.documents import (
    contact_document,
    contact_from,
    firm_document,
    firm_from,
    followup_document,
)
from crm_followup.domain.model import OPEN_STATUSES, Contact, Firm, Followup, FollowupStatus
from crm_shared.mongo.unit_of_work import Tx

FIRMS = "firms"
CONTACTS = "contacts"
FOLLOWUPS = "followups"
OPEN = [status.value for status in OPEN_STATUSES]


class FollowupStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.firms = db[FIRMS]
        self.contacts = db[CONTACTS]
        self.followups = db[FOLLOWUPS]

    async def ensure_indexes(self) -> None:
        # Due work: an indexed range over (status, due_at), whatever the backlog.
        await self.followups.create_index(
            [("status", ASCENDING), ("due_at", ASCENDING)], name="status_due"
        )
        # Only claimed follow-ups carry a lease, so this index stays as small as the claims.
        await self.followups.create_index(
            [("lease_until", ASCENDING)], name="lease_until", sparse=True
        )
        await self.followups.create_index(
            [("enterprise_id", ASCENDING), ("status", ASCENDING), ("due_at", ASCENDING)],
            name="enterprise_status_due",
        )
        await self.followups.create_index(
            [("contact_id", ASCENDING), ("status", ASCENDING)], name="contact_status", sparse=True
        )
        await self.contacts.create_index([("enterprise_id", ASCENDING)], name="enterprise")

    # -- projections -------------------------------------------------------------

    async def firm(self, tx: Tx, enterprise_id: str) -> Firm | None:
        doc = await self.firms.find_one({"_id": enterprise_id}, session=tx.session)
        return firm_from(doc) if doc else None

    async def save_firm(self, tx: Tx, firm: Firm) -> None:
        await self.firms.replace_one(
            {"_id": firm.id}, {**firm_document(firm), "updated_at": tx.now},
            upsert=True, session=tx.session,
        )  # fmt: skip

    async def contact(self, tx: Tx, contact_id: str) -> Contact | None:
        doc = await self.contacts.find_one({"_id": contact_id}, session=tx.session)
        return contact_from(doc) if doc else None

    async def contacts_of(self, tx: Tx, enterprise_id: str) -> list[Contact]:
        cursor = self.contacts.find({"enterprise_id": enterprise_id}, session=tx.session)
        return [contact_from(doc) async for doc in cursor]

    async def contacts_by_id(self, tx: Tx, ids: Iterable[str]) -> dict[str, Contact]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        cursor = self.contacts.find({"_id": {"$in": wanted}}, session=tx.session)
        return {doc["_id"]: contact_from(doc) async for doc in cursor}

    async def firms_by_id(self, tx: Tx, ids: Iterable[str]) -> dict[str, Firm]:
        wanted = sorted(set(ids))
        cursor = self.firms.find({"_id": {"$in": wanted}}, session=tx.session)
        return {doc["_id"]: firm_from(doc) async for doc in cursor}

    async def save_contact(self, tx: Tx, contact: Contact) -> None:
        await self.contacts.replace_one(
            {"_id": contact.id}, {**contact_document(contact), "updated_at": tx.now},
            upsert=True, session=tx.session,
        )  # fmt: skip

    async def delete_contact(self, tx: Tx, contact_id: str) -> None:
        await self.contacts.delete_one({"_id": contact_id}, session=tx.session)

    # -- follow-ups --------------------------------------------------------------

    async def existing_ids(self, tx: Tx, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        cursor = self.followups.find({"_id": {"$in": list(ids)}}, {"_id": 1}, session=tx.session)
        return {doc["_id"] async for doc in cursor}

    async def insert(self, tx: Tx, followups: Sequence[Followup]) -> None:
        if followups:
            docs = [{**followup_document(f), "created_at": tx.now} for f in followups]
            await self.followups.insert_many(docs, session=tx.session)

    async def open_of_firm(self, tx: Tx, enterprise_id: str) -> list[dict[str, Any]]:
        query = {"enterprise_id": enterprise_id, "status": {"$in": OPEN}}
        return await self.followups.find(query, session=tx.session).to_list()

    async def of_contact(
        self, tx: Tx, contact_id: str, statuses: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"contact_id": contact_id}
        if statuses is not None:
            query["status"] = {"$in": list(statuses)}
        return await self.followups.find(query, session=tx.session).to_list()

    async def get(self, tx: Tx, followup_id: str) -> dict[str, Any] | None:
        return await self.followups.find_one({"_id": followup_id}, session=tx.session)

    async def transition(
        self,
        tx: Tx,
        followup_id: str,
        *,
        expected: Sequence[FollowupStatus | str],
        changes: dict[str, Any],
        unset: Sequence[str] = (),
        claim: str | None = None,
    ) -> bool:
        """Compare-and-set by `_id`: apply `changes` only if the status is still `expected`."""
        query: dict[str, Any] = {"_id": followup_id, "status": {"$in": [str(s) for s in expected]}}
        if claim is not None:
            query["claim"] = claim
        update: dict[str, Any] = {"$set": {**changes, "updated_at": tx.now}}
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        result = await self.followups.update_one(query, update, session=tx.session)
        return result.modified_count == 1

    async def set_fields(
        self, tx: Tx, followup_id: str, changes: dict[str, Any], unset: Sequence[str] = ()
    ) -> None:
        update: dict[str, Any] = {"$set": {**changes, "updated_at": tx.now}}
        if unset:
            update["$unset"] = dict.fromkeys(unset, "")
        await self.followups.update_one({"_id": followup_id}, update, session=tx.session)

    async def record_send(self, tx: Tx, contact_id: str, recent_sends: list[datetime]) -> None:
        await self.contacts.update_one(
            {"_id": contact_id}, {"$set": {"recent_sends": recent_sends}}, session=tx.session
        )
