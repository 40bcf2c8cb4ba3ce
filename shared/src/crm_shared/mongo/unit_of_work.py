"""One MongoDB transaction: the state change and the events it causes, together.

    async def log_meeting(tx: Tx) -> None:
        await tx.db.interactions.insert_one(doc, session=tx.session)
        tx.emit(InteractionLogged(...), subject=enterprise_id)

    await uow.run(log_meeting)

The events go to the outbox inside the same transaction; a rolled-back change
leaves no event behind. MongoDB may run the function again on a transient
conflict, so it must not have effects outside `tx`.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.read_concern import ReadConcern

from crm_shared.contracts import CloudEvent, EventData, new_event, utcnow
from crm_shared.mongo.outbox import Outbox

T = TypeVar("T")


@dataclass
class Tx:
    session: AsyncClientSession
    db: AsyncDatabase
    service: str
    now: datetime
    events: list[CloudEvent[Any]] = field(default_factory=list)

    def emit(self, data: EventData, *, subject: str, **envelope: Any) -> CloudEvent[Any]:
        """Queue an event for the outbox of this transaction."""
        event = new_event(data, service=self.service, subject=subject, time=self.now, **envelope)
        self.events.append(event)
        return event


class UnitOfWork:
    def __init__(
        self,
        client: AsyncMongoClient,
        db: AsyncDatabase,
        *,
        service: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.client = client
        self.db = db
        self.outbox = Outbox(db)
        self.service = service
        self._clock = clock

    async def run(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in a transaction and store the events it emitted with it."""

        async def attempt(session: AsyncClientSession) -> T:
            tx = Tx(session=session, db=self.db, service=self.service, now=self._clock())
            result = await work(tx)
            await self.outbox.add(session, tx.events)
            return result

        async with self.client.start_session() as session:
            return await session.with_transaction(
                attempt,
                read_concern=ReadConcern("snapshot"),
                write_concern=WriteConcern("majority"),
            )
