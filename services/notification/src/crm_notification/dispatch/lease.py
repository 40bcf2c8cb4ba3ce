"""A named lease in MongoDB: at most one live holder, taken over when it expires.

Only the holder dispatches, so replicas do not race for the same deliveries; the
per-delivery compare-and-set still guarantees that a holder that lost its lease
without noticing (a long pause) cannot send what the new holder sends.
"""

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

LEASE_COLLECTION = "dispatch_lease"


class Lease:
    def __init__(
        self,
        db: AsyncDatabase,
        name: str,
        *,
        owner: str,
        seconds: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._collection = db[LEASE_COLLECTION]
        self._name = name
        self._owner = owner
        self._seconds = seconds
        self._clock = clock

    @property
    def renew_every(self) -> float:
        return self._seconds / 3

    async def hold(self) -> bool:
        """Take or renew the lease; False while another live holder has it."""
        now = self._clock()
        expires = now + timedelta(seconds=self._seconds)
        taken = await self._collection.update_one(
            {"_id": self._name, "$or": [{"owner": self._owner}, {"expires_at": {"$lt": now}}]},
            {"$set": {"owner": self._owner, "expires_at": expires}},
        )
        if taken.matched_count:
            return True
        try:
            await self._collection.insert_one(
                {"_id": self._name, "owner": self._owner, "expires_at": expires}
            )
        except DuplicateKeyError:
            return False
        return True

    async def release(self) -> None:
        with contextlib.suppress(Exception):
            await self._collection.delete_one({"_id": self._name, "owner": self._owner})
