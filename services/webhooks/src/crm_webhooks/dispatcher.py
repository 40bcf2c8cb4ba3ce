"""The background sender: takes due deliveries, posts them signed, records every attempt.

It runs beside the Kafka consumer (which only records deliveries), so a slow or
dead receiver never holds up consumption. Several replicas may run it: each
delivery is claimed by compare-and-set before it is sent.
"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from crm_shared.contracts import CONTENT_TYPE
from crm_webhooks.adapters.deliveries import AttemptRecord, DeliveryRepository
from crm_webhooks.adapters.http_sender import SendResult
from crm_webhooks.adapters.subscriptions import SubscriptionRepository
from crm_webhooks.domain.retries import RetryPolicy
from crm_webhooks.domain.signing import sign
from crm_webhooks.domain.states import DeliveryStatus, SubscriptionStatus

log = structlog.get_logger(__name__)


class Sender(Protocol):
    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult: ...


def signed_headers(secret: str, message_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers; `webhook-id` is the CloudEvent id (stable across retries)."""
    timestamp = int(now.timestamp())
    return {
        "content-type": CONTENT_TYPE,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


class Dispatcher:
    def __init__(
        self,
        deliveries: DeliveryRepository,
        subscriptions: SubscriptionRepository,
        *,
        policy: RetryPolicy,
        clock: Callable[[], datetime],
        batch_size: int = 50,
        concurrency: int = 8,
        lease: timedelta = timedelta(seconds=60),
        poll_seconds: float = 0.5,
    ) -> None:
        self._deliveries = deliveries
        self._subscriptions = subscriptions
        self._policy = policy
        self._clock = clock
        self._batch_size = batch_size
        self._slots = asyncio.Semaphore(concurrency)
        self._lease = lease
        self._poll_seconds = poll_seconds

    async def run(self, sender: Sender, stop: asyncio.Event) -> None:
        """Send until `stop` is set; the deliveries in flight are finished first."""
        while not stop.is_set():
            try:
                sent = await self.dispatch_once(sender)
            except Exception:
                log.exception("webhook dispatch failed; retrying")
                sent = 0
                await _sleep_unless(stop, 1.0)
            if sent == 0:
                await _sleep_unless(stop, self._poll_seconds)

    async def dispatch_once(self, sender: Sender) -> int:
        """Claim and process one batch of due deliveries; return how many were claimed."""
        now = self._clock()
        await self._deliveries.release_expired_leases(now, self._batch_size)
        candidates = await self._deliveries.due(now, self._batch_size)
        claimed = [d for d in candidates if await self._deliveries.claim(d, now, self._lease)]
        if not claimed:
            return 0
        subscriptions = await self._subscriptions.get_many(
            sorted({d["subscription_id"] for d in claimed})
        )
        await asyncio.gather(
            *(self._process(sender, d, subscriptions.get(d["subscription_id"])) for d in claimed)
        )
        return len(claimed)

    async def _process(
        self, sender: Sender, delivery: dict[str, Any], subscription: dict[str, Any] | None
    ) -> None:
        status = subscription["status"] if subscription else SubscriptionStatus.DELETED
        if status == SubscriptionStatus.DELETED:
            await self._deliveries.set_status(
                delivery["_id"], DeliveryStatus.SENDING, DeliveryStatus.CANCELLED
            )
            return
        if status == SubscriptionStatus.DISABLED:
            await self._deliveries.set_status(
                delivery["_id"], DeliveryStatus.SENDING, DeliveryStatus.PAUSED
            )
            return
        assert subscription is not None
        async with self._slots:
            body = bytes(delivery["body"])
            started = self._clock()
            headers = signed_headers(subscription["secret"], delivery["event_id"], body, started)
            result = await sender.post(subscription["url"], body, headers)
        await self._record(delivery, subscription, result, started)

    async def _record(
        self,
        delivery: dict[str, Any],
        subscription: dict[str, Any],
        result: SendResult,
        at: datetime,
    ) -> None:
        attempts = delivery["attempts"] + 1
        attempt = AttemptRecord(
            attempts, at, result.duration_ms, result.status_code, result.error, result.accepted
        )
        bound = {"delivery_id": delivery["_id"], "event_id": delivery["event_id"]}
        if result.accepted:
            await self._deliveries.record_attempt(
                delivery["_id"], attempt, status=DeliveryStatus.DELIVERED, next_attempt_at=None
            )
            await self._subscriptions.record_success(subscription["_id"], self._clock())
            log.info("webhook delivered", attempt=attempts, status=result.status_code, **bound)
            return
        retry_at = self._policy.next_attempt_at(attempts, self._clock())
        await self._deliveries.record_attempt(
            delivery["_id"],
            attempt,
            status=DeliveryStatus.PENDING if retry_at else DeliveryStatus.FAILED,
            next_attempt_at=retry_at,
        )
        log.warning(
            "webhook attempt failed",
            attempt=attempts,
            status=result.status_code,
            error=result.error,
            retry_at=retry_at.isoformat() if retry_at else None,
            **bound,
        )
        failures = await self._subscriptions.record_failure(subscription["_id"], self._clock())
        if self._policy.should_disable(failures):
            reason = f"{failures} consecutive failed attempts; last: {result.error}"
            if await self._subscriptions.disable(subscription["_id"], reason[:300], self._clock()):
                log.warning("webhook subscription disabled", subscription=subscription["_id"])


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
