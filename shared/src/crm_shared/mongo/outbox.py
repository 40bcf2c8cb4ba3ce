"""Transactional outbox: events are stored with the state change that caused them.

`Outbox.add` writes one record per transaction, holding that transaction's events
in order, inside the caller's MongoDB transaction; the relay
(`crm_shared.kafka.relay`) publishes records later, in `created_at` order.

One record per transaction rather than per event: every per-document write
costs SecantusDB about half a millisecond in index upkeep, and the relay updates
each record once, so a service that emits a batch of events in one transaction
(the notification recorder: one per email) pays for one record, not for each event.
"""

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bson import Binary, ObjectId
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from crm_shared.contracts import CONTENT_TYPE, CloudEvent, utcnow
from crm_shared.contracts.erasure import personal_values, scrub_event_bytes

OUTBOX_COLLECTION = "outbox"
BATCHES_COLLECTION = "outbox_batches"
# A record is `pending` until a relay claims it into a batch (`batched`, with the
# batch's token in `claim`); the batch document says whether it was published.
# One write per record instead of two keeps the relay ahead of the writers.
PENDING = "pending"
BATCHED = "batched"


def stored_event(event: CloudEvent[Any]) -> dict[str, Any]:
    """One event as the relay publishes it: topic, key, value and headers."""
    return {
        "event_id": str(event.id),
        "type": event.type,
        "topic": event.data.topic.name,
        "key": event.subject,
        "value": Binary(event.to_json()),
        "headers": [
            ["content-type", CONTENT_TYPE],
            ["ce_id", str(event.id)],
            ["ce_type", event.type],
        ],
    }


def outbox_record(
    events: Iterable[CloudEvent[Any]], created_at: datetime | None = None
) -> dict[str, Any]:
    """The record of one transaction's events (`keys`: the firms they are about, for erasure)."""
    stored = [stored_event(event) for event in events]
    return {
        "_id": ObjectId(),
        "events": stored,
        "count": len(stored),
        "keys": _keys(stored),
        "state": PENDING,
        "created_at": created_at or utcnow(),
    }


def _keys(stored: list[dict[str, Any]]) -> str | list[str]:
    # A query on `keys` matches a string or an element of a list alike. One firm (most
    # transactions) as a plain string keeps the index entry single: SecantusDB's
    # multikey path cost the relay benchmark (one event per record) 1.37x -> 1.20-1.27x.
    keys = sorted({event["key"] for event in stored})
    return keys[0] if len(keys) == 1 else keys


class Outbox:
    """The outbox collection of one service database."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db[OUTBOX_COLLECTION]
        self.batches = db[BATCHES_COLLECTION]

    async def ensure_indexes(self) -> None:
        # The relay claims by an indexed range (SecantusDB scans on most other shapes),
        # then reads and settles exactly its own batch by the claim token.
        await self.collection.create_index(
            [("state", ASCENDING), ("created_at", ASCENDING)], name="state_created"
        )
        await self.collection.create_index(
            [("claim", ASCENDING), ("created_at", ASCENDING)], name="claim_created", sparse=True
        )
        await self.collection.create_index([("keys", ASCENDING)], name="keys")
        await self.batches.create_index(
            [("published_at", ASCENDING), ("claimed_at", ASCENDING)], name="unpublished"
        )

    async def add(self, session: AsyncClientSession, events: Iterable[CloudEvent[Any]]) -> None:
        """Store events in the caller's transaction (no transaction: a programming error)."""
        if not session.in_transaction:
            raise RuntimeError("outbox records must be written inside a transaction")
        record = outbox_record(events)
        if record["count"]:
            await self.collection.insert_one(record, session=session)

    async def events(self, **match: Any) -> list[dict[str, Any]]:
        """Stored events in the order they are published, those matching every `match`
        field of the event (`type=…`, `key=…`); each with its record's `state`.
        For tests and diagnostics: no index serves it, SecantusDB scans the outbox."""
        query = {f"events.{field}": value for field, value in match.items()}
        records = self.collection.find(query).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        return [
            {**event, "state": record["state"]}
            async for record in records
            for event in record["events"]
            if all(event.get(field) == value for field, value in match.items())
        ]

    async def unpublished_count(self) -> int:
        """Events not yet acknowledged by Kafka: pending, or in a batch still in flight."""
        in_flight = await self.batches.distinct("_id", {"published_at": None})
        # Two reads, each on its own index: SecantusDB scans the collection for an $or.
        queries: list[dict[str, Any]] = [{"state": PENDING}]
        if in_flight:
            queries.append({"claim": {"$in": in_flight}})
        total = 0
        for query in queries:
            total += sum([r["count"] async for r in self.collection.find(query, {"count": 1})])
        return total

    async def published_count(self) -> int:
        published = self.batches.find({"published_at": {"$ne": None}}, {"count": 1})
        return sum([batch["count"] async for batch in published])

    async def rewrite_events(
        self,
        session: AsyncClientSession,
        keys: Iterable[str],
        rewrite: Callable[[bytes], bytes | None],
    ) -> int:
        """Apply `rewrite` to the value of every stored event about these firms (None: keep
        it as is); return how many events changed. Published records are rewritten too:
        they are the service's record of what it said."""
        keys = list(keys)
        changed = 0
        async for record in self.collection.find({"keys": {"$in": keys}}, session=session):
            events = record["events"]
            rewritten = [
                None if event["key"] not in keys else rewrite(bytes(event["value"]))
                for event in events
            ]
            if not any(value is not None for value in rewritten):
                continue
            for event, value in zip(events, rewritten, strict=True):
                if value is not None:
                    event["value"] = Binary(value)
                    changed += 1
            await self.collection.update_one(
                {"_id": record["_id"]}, {"$set": {"events": events}}, session=session
            )
        return changed

    async def erase_contact(self, session: AsyncClientSession, key: str, contact_id: str) -> int:
        """Erase a contact's personal data from a firm's stored events; how many changed."""
        records = self.collection.find({"keys": key}, {"events": 1}, session=session)
        documents = [
            json.loads(event["value"])
            async for record in records
            for event in record["events"]
            if event["key"] == key
        ]
        secrets = personal_values(documents, contact_id)
        if not secrets:
            return 0
        return await self.rewrite_events(
            session, [key], lambda value: scrub_event_bytes(value, secrets)
        )
