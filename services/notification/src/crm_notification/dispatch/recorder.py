"""Records attempt outcomes, many per transaction (group commit).

The SMTP answer is already in hand when a record arrives, so batching only delays
the bookkeeping, never an email; it divides the database work per email, which is
what bounds throughput on SecantusDB. Each record is a compare-and-set on its
delivery (the emails accepted in one batch share a single update), an entry in
the attempts log and, for a final state, the outcome event in the same
transaction (the outbox).
"""

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from crm_notification.adapters.deliveries import DeliveryRepository, QueuedDelivery
from crm_notification.adapters.suppressions import SuppressionRepository
from crm_notification.dispatch import outcomes
from crm_notification.domain.delivery import (
    Attempt,
    Decision,
    DeliveryState,
    Outcome,
    SuppressionReason,
    decide,
)
from crm_notification.domain.retry import RetryPolicy
from crm_shared.mongo.client import is_transient
from crm_shared.mongo.unit_of_work import Tx, UnitOfWork

log = structlog.get_logger(__name__)

_CLAIM_FIELDS = {"attempt_id": "", "sending_by": "", "sending_since": ""}


@dataclass(frozen=True)
class AttemptRecord:
    delivery: QueuedDelivery
    attempt: Attempt
    attempt_id: str
    started_at: datetime
    finished_at: datetime


@dataclass(frozen=True)
class SuppressionRecord:
    delivery: QueuedDelivery
    reason: SuppressionReason


Record = AttemptRecord | SuppressionRecord


class _GroupMoved(Exception):
    """A delivery of the accepted group moved on: record that batch one by one."""


def identity(delivery: QueuedDelivery) -> outcomes.Identity:
    return outcomes.Identity(
        notification_id=delivery.id,
        enterprise_id=delivery.enterprise_id,
        contact_id=delivery.contact_id,
        template=delivery.template,
        followup_id=delivery.followup_id,
    )


class Recorder:
    def __init__(
        self,
        uow: UnitOfWork,
        deliveries: DeliveryRepository,
        suppressions: SuppressionRepository,
        policy: RetryPolicy,
        *,
        message_id: Callable[[str], str],
        on_recorded: Callable[[str], None],
        max_batch: int = 200,
        linger_seconds: float = 0.005,
    ) -> None:
        self._uow = uow
        self._deliveries = deliveries
        self._suppressions = suppressions
        self._policy = policy
        self._message_id = message_id
        self._on_recorded = on_recorded
        self._max_batch = max_batch
        self._linger = linger_seconds
        self._queue: asyncio.Queue[Record | None] = asyncio.Queue()

    def submit(self, record: Record) -> None:
        self._queue.put_nowait(record)

    def close(self) -> None:
        """Finish what was submitted, then stop."""
        self._queue.put_nowait(None)

    async def run(self) -> None:
        closing = False
        while not closing:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._linger):
                    while len(batch) < self._max_batch:
                        item = await self._queue.get()
                        if item is None:
                            closing = True
                            break
                        batch.append(item)
            while not closing and not self._queue.empty() and len(batch) < self._max_batch:
                item = self._queue.get_nowait()
                if item is None:
                    closing = True
                else:
                    batch.append(item)
            await self._commit(batch)

    async def _commit(self, batch: list[Record]) -> None:
        try:
            await self._write_until_done(batch, grouped=True)
        except Exception as error:
            if not isinstance(error, _GroupMoved):
                log.exception("recording a batch failed; recording one by one", size=len(batch))
            for record in batch:
                try:
                    await self._write_until_done([record], grouped=False)
                except Exception:
                    # The delivery stays `sending` (settled later as unconfirmed) or
                    # `queued` (tried again): never sent twice, and visible in the log.
                    log.exception("an outcome could not be recorded", notification=_id(record))
        finally:
            for record in batch:
                self._on_recorded(_id(record))

    async def _write_until_done(self, batch: list[Record], *, grouped: bool) -> None:
        delay = 0.2
        while True:
            try:
                await self._uow.run(lambda tx: self._write(tx, batch, grouped=grouped))
                return
            except Exception as error:
                if not is_transient(error):
                    raise
                log.warning("database away while recording; retrying", error=str(error))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _write(self, tx: Tx, batch: list[Record], *, grouped: bool) -> None:
        entries: list[dict[str, Any]] = []
        accepted: list[tuple[AttemptRecord, Decision]] = []
        for record in batch:
            if isinstance(record, SuppressionRecord):
                await self._write_suppression(tx, record)
                continue
            decision = decide(
                record.attempt, record.delivery.attempt_count + 1, self._policy, tx.now
            )
            if decision.outcome is Outcome.NOTHING:
                continue
            if grouped and decision.outcome is Outcome.SENT:
                accepted.append((record, decision))
            elif await self._write_attempt(tx, record, decision):
                entries.append(self._entry(record))
        if accepted:
            await self._write_accepted(tx, [r for r, _ in accepted])
            entries += [self._entry(r) for r, _ in accepted]
        await self._deliveries.add_attempts(tx, entries)

    async def _write_accepted(self, tx: Tx, records: list[AttemptRecord]) -> None:
        """The common case, in one update: emails the server accepted."""
        matched = await self._deliveries.update_group(
            tx,
            [r.delivery.id for r in records],
            {
                "state": DeliveryState.SENDING.value,
                "attempt_id": {"$in": sorted({r.attempt_id for r in records})},
            },
            {
                "$set": {
                    "state": DeliveryState.SENT.value,
                    "sent_at": tx.now,
                    "next_attempt_at": None,
                    "updated_at": tx.now,
                },
                "$inc": {"version": 1, "attempt_count": 1},
                "$unset": _CLAIM_FIELDS,
            },
        )
        if matched != len(records):
            raise _GroupMoved
        for record in records:
            self._emit_sent(tx, record, confirmed=True)

    async def _write_suppression(self, tx: Tx, record: SuppressionRecord) -> None:
        delivery = record.delivery
        changed = await self._deliveries.suppress_queued(
            tx, delivery.id, record.reason.value, version=delivery.version
        )
        if not changed:
            return
        if record.reason is SuppressionReason.ERASED:
            # Queued while the erasure was handled: its payload escaped that erasure.
            await self._deliveries.forget(tx, [delivery.id])
        event = outcomes.suppressed(identity(delivery), record.reason)
        tx.emit(event, subject=delivery.enterprise_id)

    async def _write_attempt(self, tx: Tx, record: AttemptRecord, decision: Decision) -> bool:
        delivery, attempt = record.delivery, record.attempt
        attempts_made = delivery.attempt_count + 1
        assert decision.state is not None
        changes: dict[str, Any] = {
            "state": decision.state.value,
            "attempt_count": attempts_made,
            "next_attempt_at": decision.next_attempt_at,
            "updated_at": tx.now,
        }
        if decision.outcome in (Outcome.SENT, Outcome.UNCONFIRMED):
            changes["sent_at"] = tx.now
        # A claimed attempt is matched by its claim, an unclaimed one by the version it
        # was read at: either way a delivery that moved on meanwhile is left alone.
        guard: dict[str, Any] = {"_id": delivery.id}
        if attempt.claimed:
            guard |= {"state": DeliveryState.SENDING.value, "attempt_id": record.attempt_id}
        else:
            guard |= {"state": DeliveryState.QUEUED.value, "version": delivery.version}
        update = {"$set": changes, "$inc": {"version": 1}, "$unset": _CLAIM_FIELDS}
        if not await self._deliveries.update(tx, guard, update):
            log.warning("outcome not recorded: the delivery moved on", notification=delivery.id)
            return False
        if attempt.hard_bounce:
            await self._suppressions.add(
                tx, delivery.recipient_hash, SuppressionReason.HARD_BOUNCE, now=tx.now
            )
        if decision.outcome in (Outcome.SENT, Outcome.UNCONFIRMED):
            self._emit_sent(tx, record, confirmed=decision.outcome is Outcome.SENT)
        elif decision.outcome is Outcome.FAILED:
            event = outcomes.failed(
                identity(delivery),
                smtp_code=attempt.smtp_code,
                smtp_response=self._response(record),
                attempts=attempts_made,
            )
            tx.emit(event, subject=delivery.enterprise_id)
        return True  # a retry: the attempt is recorded, the outcome comes later

    def _emit_sent(self, tx: Tx, record: AttemptRecord, *, confirmed: bool) -> None:
        delivery = record.delivery
        event = outcomes.sent(
            identity(delivery),
            message_id=self._message_id(delivery.id),
            sent_at=tx.now,
            attempts=delivery.attempt_count + 1,
            confirmed=confirmed,
        )
        tx.emit(event, subject=delivery.enterprise_id)

    def _response(self, record: AttemptRecord) -> str:
        return outcomes.redact(record.attempt.smtp_response, record.delivery.recipient)

    def _entry(self, record: AttemptRecord) -> dict[str, Any]:
        number = record.delivery.attempt_count + 1
        return {
            "_id": f"{record.delivery.id}#{number}",
            "notification_id": record.delivery.id,
            "number": number,
            "attempt_id": record.attempt_id,
            "started_at": record.started_at,
            "finished_at": record.finished_at,
            "result": record.attempt.result.value,
            "stage": record.attempt.stage.value,
            "smtp_code": record.attempt.smtp_code,
            "smtp_response": self._response(record),
        }


def _id(record: Record) -> str:
    return record.delivery.id
