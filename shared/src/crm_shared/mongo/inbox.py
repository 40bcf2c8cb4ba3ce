"""Idempotent-consumer inbox: the ids of events a consumer has already applied.

The id is inserted in the same transaction as the event's effect, so an event
redelivered by Kafka finds its id and has no second effect.
"""

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from crm_shared.contracts import CloudEvent
from crm_shared.mongo.unit_of_work import Tx

INBOX_COLLECTION = "inbox"


class AlreadyProcessed(Exception):
    """Raised inside the transaction to abort it: the event was applied before."""


class Inbox:
    def __init__(self, db: AsyncDatabase, consumer: str) -> None:
        self.collection = db[INBOX_COLLECTION]
        self.consumer = consumer

    def _id(self, event: CloudEvent[Any]) -> str:
        return f"{self.consumer}:{event.id}"

    async def record(self, tx: Tx, event: CloudEvent[Any]) -> None:
        """Claim the event in this transaction, or raise AlreadyProcessed."""
        try:
            await self.collection.insert_one(
                {
                    "_id": self._id(event),
                    "type": event.type,
                    "subject": event.subject,
                    "processed_at": tx.now,
                },
                session=tx.session,
            )
        except DuplicateKeyError:
            raise AlreadyProcessed(str(event.id)) from None

    async def seen(self, event: CloudEvent[Any]) -> bool:
        return await self.collection.find_one({"_id": self._id(event)}, {"_id": 1}) is not None
