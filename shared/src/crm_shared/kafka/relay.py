"""The outbox relay: publishes committed outbox records to Kafka, in order per key.

One relay per service database holds a lease and does the work; others wait, so
two relays never interleave a key's events. A batch is claimed with one indexed
range update (records -> `batched`, with the batch token), published (idempotent
producer, acks=all), then its batch document is marked published. A relay killed
mid-batch leaves an unpublished batch, which the next lease holder publishes
again: consumers see a redelivery of the same event id, never a loss.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from crm_shared.contracts import utcnow
from crm_shared.mongo.client import is_transient
from crm_shared.mongo.outbox import BATCHED, BATCHES_COLLECTION, OUTBOX_COLLECTION, PENDING
from crm_shared.observability import metrics
from crm_shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

LEASE_COLLECTION = "outbox_lease"
LEASE_ID = "relay"


class RecordPublisher(Protocol):
    async def publish_records(self, records: Sequence[dict[str, Any]]) -> None:
        """Publish stored events (`crm_shared.mongo.outbox.stored_event`) in the given
        order; return once every one is acknowledged."""


@dataclass
class RelayConfig:
    batch_size: int = 500
    poll_seconds: float = 0.2
    lease_seconds: float = 30.0
    # Records claimed longer ago than this by a relay that died are published again.
    stale_claim_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "RelayConfig":
        return cls(
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
            lease_seconds=settings.outbox_lease_seconds,
            stale_claim_seconds=2 * settings.outbox_lease_seconds,
        )


_MAX_WINDOW = timedelta(days=1)


@dataclass
class _Window:
    """The claim range grows or shrinks so a batch holds about `batch_size` events."""

    upper: datetime | None = None
    width: timedelta = field(default_factory=lambda: timedelta(milliseconds=200))

    caught_up: bool = False

    def next_upper(self, now: datetime) -> datetime:
        upper = min(now, (self.upper or now) + self.width)
        self.caught_up = upper == now
        return upper

    def adapt(self, claimed: int, target: int) -> None:
        if claimed < target // 2:
            # Bounded: an idle relay doubles every poll and would overflow datetime in minutes.
            self.width = min(self.width * 2, _MAX_WINDOW)
        elif claimed > target * 2:
            self.width = max(self.width / 2, timedelta(milliseconds=1))


class OutboxRelay:
    def __init__(
        self,
        db: AsyncDatabase,
        publisher: RecordPublisher,
        *,
        service: str,
        config: RelayConfig | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._outbox = db[OUTBOX_COLLECTION]
        self._batches = db[BATCHES_COLLECTION]
        self._lease = db[LEASE_COLLECTION]
        self._publisher = publisher
        self._service = service
        self._config = config or RelayConfig()
        self._clock = clock
        self._owner = f"{service}-{uuid.uuid4().hex[:12]}"
        self._window = _Window()
        self._holds_lease = False

    @property
    def owner(self) -> str:
        return self._owner

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until `stop` is set; the batch in flight is finished first."""
        while not stop.is_set():
            try:
                published = await self.relay_once()
            except Exception as error:
                if not is_transient(error):
                    log.exception("outbox relay failed; retrying", service=self._service)
                else:
                    log.warning("outbox relay waiting for the database", error=str(error))
                published = 0
                await _sleep_unless(stop, 1.0)
            # Caught up: wait for the next poll rather than claim each new record as it
            # commits. A relay cycle is four writes, each a synced commit; a backlog
            # (not caught up) is still taken a batch after another.
            if published == 0 or self._window.caught_up:
                await _sleep_unless(stop, self._config.poll_seconds)
        await self.release_lease()

    async def relay_once(self) -> int:
        """Publish one batch if this relay holds the lease; return how many events it sent."""
        if not await self._acquire_lease():
            self._window.caught_up = False
            return 0
        now = self._clock()
        published = await self._republish_stale_claims(now)
        if self._window.upper is None:
            # Start at the oldest pending record, so a backlog is taken a batch at a time.
            oldest = await self._outbox.find_one(
                {"state": PENDING}, {"created_at": 1}, sort=[("created_at", ASCENDING)]
            )
            self._window.upper = oldest["created_at"] if oldest else now
        upper = self._window.next_upper(now)
        token = uuid.uuid4().hex
        await self._batches.insert_one(
            {"_id": token, "owner": self._owner, "claimed_at": now, "published_at": None}
        )
        claimed = await self._outbox.update_many(
            {"state": PENDING, "created_at": {"$lte": upper}},
            {"$set": {"state": BATCHED, "claim": token}},
        )
        self._window.upper = upper
        batch = 0
        if claimed.modified_count:
            batch = await self._publish_batch(token)
        else:
            await self._batches.delete_one({"_id": token})
        self._window.adapt(batch, self._config.batch_size)
        return published + batch

    async def drain(self) -> int:
        """Publish until nothing is pending (tests, benchmarks); bound it with asyncio.timeout."""
        total = 0
        while True:
            published = await self.relay_once()
            total += published
            if published == 0 and self._window.caught_up:
                return total

    async def _publish_batch(self, token: str) -> int:
        records = await self._outbox.find({"claim": token}).sort("created_at", ASCENDING).to_list()
        # created_at ties (same millisecond) keep insertion order through the ObjectId.
        records.sort(key=lambda r: (r["created_at"], r["_id"]))
        events = [event for record in records for event in record["events"]]
        await self._publisher.publish_records(events)
        await self._batches.update_one(
            {"_id": token}, {"$set": {"published_at": self._clock(), "count": len(events)}}
        )
        metrics.OUTBOX_PUBLISHED.labels(self._service).inc(len(events))
        log.debug("outbox batch published", records=len(records), events=len(events))
        return len(events)

    async def _republish_stale_claims(self, now: datetime) -> int:
        """Publish, oldest first, batches another relay claimed and never finished."""
        cutoff = now - timedelta(seconds=self._config.stale_claim_seconds)
        unfinished = self._batches.find({"published_at": None}).sort("claimed_at", ASCENDING)
        count = 0
        async for batch in unfinished:
            if batch["owner"] == self._owner and batch["claimed_at"] > cutoff:
                continue
            log.warning("republishing a batch claimed by a relay that stopped", claim=batch["_id"])
            count += await self._publish_batch(batch["_id"])
        return count

    async def _acquire_lease(self) -> bool:
        now = self._clock()
        expires = now + timedelta(seconds=self._config.lease_seconds)
        taken = await self._lease.update_one(
            {"_id": LEASE_ID, "$or": [{"owner": self._owner}, {"expires_at": {"$lt": now}}]},
            {"$set": {"owner": self._owner, "expires_at": expires}},
        )
        if taken.matched_count == 0:
            try:
                await self._lease.insert_one(
                    {"_id": LEASE_ID, "owner": self._owner, "expires_at": expires}
                )
            except DuplicateKeyError:
                self._holds_lease = False
                return False
        if not self._holds_lease:
            log.info("outbox relay took the lease", owner=self._owner)
            self._holds_lease = True
            self._window = _Window()
        return True

    async def release_lease(self) -> None:
        with contextlib.suppress(Exception):
            await self._lease.delete_one({"_id": LEASE_ID, "owner": self._owner})
        self._holds_lease = False


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
