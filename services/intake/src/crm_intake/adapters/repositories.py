"""Repositories of contacts and interactions (enterprises: see `enterprises.py`).

Writes take the transaction's session; a versioned write is a compare-and-set on
(`_id`, `version`), the one update shape SecantusDB serves without a scan.
"""

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from crm_intake.adapters.documents import Session, from_document, to_document
from crm_intake.adapters.enterprises import EnterpriseQuery, Enterprises
from crm_intake.domain.contact import Contact, Interaction

__all__ = ["Contacts", "EnterpriseQuery", "Enterprises", "Interactions", "Session"]


class Contacts:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["contacts"]

    @staticmethod
    def _document(contact: Contact) -> dict[str, Any]:
        return to_document(contact, email_key=contact.email.casefold() if contact.email else None)

    async def get(self, contact_id: str, session: Session = None) -> Contact | None:
        document = await self.collection.find_one({"_id": contact_id}, session=session)
        return from_document(Contact, document) if document else None

    async def insert(self, contact: Contact, session: Session) -> None:
        await self.collection.insert_one(self._document(contact), session=session)

    async def replace(self, contact: Contact, *, expected_version: int, session: Session) -> bool:
        result = await self.collection.replace_one(
            {"_id": contact.id, "version": expected_version},
            self._document(contact),
            session=session,
        )
        return result.matched_count == 1

    async def of_enterprise(self, enterprise_id: str, session: Session = None) -> list[Contact]:
        cursor = self.collection.find({"enterprise_id": enterprise_id}, session=session)
        contacts = [from_document(Contact, doc) async for doc in cursor]
        return sorted(contacts, key=lambda c: (not c.is_primary, c.created_at, c.id))

    async def move(self, from_id: str, to_id: str, session: Session) -> int:
        """Re-home a merged firm's contacts; none of them stays primary at the survivor."""
        result = await self.collection.update_many(
            {"enterprise_id": from_id},
            {"$set": {"enterprise_id": to_id, "is_primary": False}, "$inc": {"version": 1}},
            session=session,
        )
        return result.modified_count


class Interactions:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["interactions"]

    async def insert(self, interaction: Interaction, session: Session) -> None:
        await self.collection.insert_one(to_document(interaction), session=session)

    async def of_enterprise(self, enterprise_id: str, session: Session = None) -> list[Interaction]:
        cursor = self.collection.find({"enterprise_id": enterprise_id}, session=session).sort(
            "occurred_at", ASCENDING
        )
        return [from_document(Interaction, doc) async for doc in cursor]

    async def with_contact(self, contact_id: str, session: Session = None) -> list[Interaction]:
        cursor = self.collection.find({"contact_ids": contact_id}, session=session)
        return [from_document(Interaction, doc) async for doc in cursor]

    async def set_summary(self, interaction_id: str, summary: str | None, session: Session) -> None:
        await self.collection.update_one(
            {"_id": interaction_id}, {"$set": {"summary": summary}}, session=session
        )

    async def move(self, from_id: str, to_id: str, session: Session) -> int:
        result = await self.collection.update_many(
            {"enterprise_id": from_id},
            {"$set": {"enterprise_id": to_id, "moved_from": from_id}},
            session=session,
        )
        return result.modified_count
