"""The dispatcher: a background job that sends due deliveries, a few at a time.

The Kafka handler only queues a delivery (so one slow recipient never holds up a
partition); this job, on the one replica holding the dispatch lease, reads due
deliveries by an indexed, windowed range, and hands them to `concurrency` lanes.
Each lane owns one SMTP connection and, per delivery: renders, runs the SMTP
transaction up to the end of the content, claims the delivery (compare-and-set
queued -> sending), sends the final ".", and passes the answer to the recorder.

A new lease holder first settles the deliveries a dead holder left `sending`:
their end of data was due and the answer is unknown, so they are recorded as
`unconfirmed` (presumed delivered) and never sent again.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from crm_notification.adapters.deliveries import DeliveryRepository, QueuedDelivery
from crm_notification.adapters.smtp import SmtpConnection
from crm_notification.adapters.suppressions import SuppressionRepository
from crm_notification.dispatch.claims import ClaimGroups
from crm_notification.dispatch.composer import Composer
from crm_notification.dispatch.lease import Lease
from crm_notification.dispatch.recorder import AttemptRecord, Recorder, SuppressionRecord
from crm_notification.domain.delivery import (
    Attempt,
    AttemptResult,
    SmtpStage,
    SuppressionReason,
    suppression_applies,
)
from crm_notification.rendering.contexts import TemplateProblem

log = structlog.get_logger(__name__)

ORPHAN_RESPONSE = (
    "the sending process stopped after the end of the message was due and before the "
    "server's answer was recorded; presumed delivered, not sent again"
)
# After a nudge, let the request's transaction commit before looking.
NUDGE_GRACE_SECONDS = 0.02
# How often the holder also looks for sends of its own that a failing lane left behind.
ORPHAN_CHECK_SECONDS = 60.0


@dataclass(frozen=True)
class DispatchConfig:
    concurrency: int = 4
    batch_size: int = 100
    poll_seconds: float = 0.5
    lease_seconds: float = 15.0


@dataclass
class _Window:
    """Upper bound of the due range read next; it widens or narrows so a read
    returns about one batch (SecantusDB's cost is the number of matches)."""

    upper: datetime | None = None
    width: timedelta = field(default_factory=lambda: timedelta(seconds=1))
    caught_up: bool = False

    def next_upper(self, now: datetime) -> datetime:
        upper = min(now, (self.upper or now) + self.width)
        self.caught_up = upper >= now
        self.upper = upper
        return upper

    def adapt(self, found: int, target: int) -> None:
        if found < target // 2:
            self.width = min(self.width * 2, timedelta(days=1))
        elif found >= target * 2:
            self.width = max(self.width / 2, timedelta(milliseconds=1))


class Dispatcher:
    def __init__(
        self,
        *,
        deliveries: DeliveryRepository,
        suppressions: SuppressionRepository,
        recorder_factory: Callable[[Callable[[str], None]], Recorder],
        composer: Composer,
        connect: Callable[[], SmtpConnection],
        lease_factory: Callable[[str], Lease],
        config: DispatchConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self.owner = f"notification-{uuid.uuid4().hex[:12]}"
        self._deliveries = deliveries
        self._suppressions = suppressions
        self._recorder = recorder_factory(self._release)
        self._composer = composer
        self._connect = connect
        self._lease = lease_factory(self.owner)
        self._claims = ClaimGroups(deliveries, owner=self.owner, clock=clock)
        self._config = config
        self._clock = clock
        self._queue: asyncio.Queue[QueuedDelivery] = asyncio.Queue()
        self._in_hand: set[str] = set()
        self._wake = asyncio.Event()
        self._hungry = asyncio.Event()
        self._leading = False
        self._window = _Window()
        self._orphans_checked_at: datetime | None = None

    def nudge(self) -> None:
        """A delivery was queued: look sooner than the next poll."""
        self._wake.set()

    @property
    def _low_water(self) -> int:
        return max(self._config.batch_size // 2, self._config.concurrency)

    async def run(self, stop: asyncio.Event) -> None:
        recorder = asyncio.create_task(self._recorder.run(), name="notification-recorder")
        lanes = [
            asyncio.create_task(self._lane(stop), name=f"notification-lane-{n}")
            for n in range(self._config.concurrency)
        ]
        try:
            await self._feed(stop)
        finally:
            await asyncio.gather(*lanes, return_exceptions=True)
            self._recorder.close()
            await recorder
            await self._lease.release()

    # -- reading due deliveries ---------------------------------------------------------

    async def _feed(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                fetched = await self._feed_once()
            except Exception:
                log.exception("dispatcher could not read due deliveries; retrying")
                await _wait(stop, None, 1.0)
                continue
            if fetched is None:
                await _wait(stop, None, self._lease.renew_every)
            elif self._queue.qsize() > self._low_water:
                self._hungry.clear()
                await _wait(stop, self._hungry, self._lease.renew_every)
            elif fetched == 0 and self._window.caught_up:
                self._wake.clear()
                if await _wait(stop, self._wake, self._config.poll_seconds):
                    await asyncio.sleep(NUDGE_GRACE_SECONDS)

    async def _feed_once(self) -> int | None:
        """Read one window of due deliveries; None when another replica holds the lease."""
        if not await self._lease.hold():
            if self._leading:
                log.warning("dispatch lease lost", owner=self.owner)
            self._leading = False
            return None
        if not self._leading:
            self._leading = True
            self._window = _Window()
            log.info("dispatch lease taken", owner=self.owner)
            await self._settle_orphans()
        elif self._orphan_check_due():
            await self._settle_orphans()
        if self._queue.qsize() > self._low_water:
            return 0
        now = self._clock()
        if self._window.upper is None:
            oldest = await self._deliveries.oldest_queued_at()
            self._window.upper = min(oldest, now) if oldest else now
        upper = self._window.next_upper(now)
        found = await self._deliveries.due(upper, limit=2 * self._config.batch_size)
        self._window.adapt(len(found), self._config.batch_size)
        fresh_docs = [d for d in found if d["_id"] not in self._in_hand]
        if not fresh_docs:
            return 0
        fresh = await self._deliveries.with_payloads(fresh_docs)
        by_address = await self._suppressions.reasons(list({d.recipient_hash for d in fresh}))
        by_contact = await self._suppressions.contact_reasons(
            list({d.contact_id for d in fresh if d.contact_id})
        )
        for delivery in fresh:
            self._in_hand.add(delivery.id)
            reason = _applicable(delivery, by_address, by_contact)
            if reason is not None:
                self._recorder.submit(SuppressionRecord(delivery, reason))
            else:
                self._queue.put_nowait(delivery)
        return len(fresh)

    def _orphan_check_due(self) -> bool:
        last = self._orphans_checked_at
        return last is None or (self._clock() - last).total_seconds() >= ORPHAN_CHECK_SECONDS

    async def _settle_orphans(self) -> None:
        """Record as unconfirmed every `sending` delivery no lane of ours has in hand:
        its holder died (or its lane failed) after the end of data was due."""
        now = self._orphans_checked_at = self._clock()
        orphans = [d for d in await self._deliveries.sending() if d["_id"] not in self._in_hand]
        for delivery in await self._deliveries.with_payloads(orphans):
            log.warning("settling an orphaned send as unconfirmed", notification=delivery.id)
            self._in_hand.add(delivery.id)
            attempt = Attempt(
                AttemptResult.UNCONFIRMED, SmtpStage.END_OF_DATA, None, ORPHAN_RESPONSE
            )
            self._recorder.submit(
                AttemptRecord(
                    delivery,
                    attempt,
                    attempt_id=delivery.attempt_id or "",
                    started_at=now,
                    finished_at=now,
                )
            )

    def _release(self, notification_id: str) -> None:
        self._in_hand.discard(notification_id)

    # -- sending ------------------------------------------------------------------------

    async def _lane(self, stop: asyncio.Event) -> None:
        connection = self._connect()
        try:
            while not stop.is_set():
                try:
                    delivery = await asyncio.wait_for(self._queue.get(), timeout=0.25)
                except TimeoutError:
                    continue
                if self._queue.qsize() <= self._low_water:
                    self._hungry.set()
                try:
                    await self._deliver(connection, delivery)
                except Exception:
                    log.exception("sending failed unexpectedly", notification=delivery.id)
                    connection.drop()
                    self._release(delivery.id)
        finally:
            await connection.close()

    async def _deliver(self, connection: SmtpConnection, delivery: QueuedDelivery) -> None:
        started = self._clock()
        token: str | None = None

        async def claim() -> bool:
            nonlocal token
            token = await self._claims.claim(delivery.id)
            return token is not None

        try:
            message = self._composer.message(delivery)
        except (TemplateProblem, ValueError) as problem:
            attempt = Attempt(AttemptResult.PERMANENT, SmtpStage.PREPARE, None, str(problem))
        else:
            attempt = await connection.send(
                self._composer.sender, delivery.recipient, message, claim
            )
        attempt_id = token or uuid.uuid4().hex
        self._recorder.submit(AttemptRecord(delivery, attempt, attempt_id, started, self._clock()))


def _applicable(
    delivery: QueuedDelivery,
    by_address: dict[str, SuppressionReason],
    by_contact: dict[str, SuppressionReason],
) -> SuppressionReason | None:
    """The suppression that stops this delivery, if any (an erasure first)."""
    reasons = [by_address.get(delivery.recipient_hash)]
    if delivery.contact_id:
        reasons.append(by_contact.get(delivery.contact_id))
    applicable = [r for r in reasons if r is not None and suppression_applies(r, delivery.category)]
    if SuppressionReason.ERASED in applicable:
        return SuppressionReason.ERASED
    return applicable[0] if applicable else None


async def _wait(stop: asyncio.Event, event: asyncio.Event | None, seconds: float) -> bool:
    """Wait for `event` (or `stop`) at most `seconds`; True if `event` fired."""
    waiters = [asyncio.ensure_future(stop.wait())]
    if event is not None:
        waiters.append(asyncio.ensure_future(event.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
    return event is not None and event.is_set() and not stop.is_set()
