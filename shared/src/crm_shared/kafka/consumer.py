"""Idempotent event consumer: each event applied once, in a transaction, or dead-lettered.

Per topic, a service registers handlers by event type:

    consumer = EventConsumer(LIFECYCLE, uow=uow, broker=broker, service="followup")

    @consumer.on(EnterpriseCreated)
    async def schedule_welcome(event: CloudEvent[EnterpriseCreated], tx: Tx) -> None: ...

Records arrive in batches (one offset commit per batch, after processing). Each
record: decode and validate (invalid -> DLQ at once); record its id in the inbox
and apply the handler in one transaction; retry with backoff — forever while
the database is unreachable, `max_attempts` times for any other error — then
DLQ. Events of types nobody here handles are skipped.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from crm_shared.contracts import CloudEvent, EventData, InvalidEvent, Topic, decode_event
from crm_shared.kafka.broker import consumer_group
from crm_shared.kafka.dlq import publish_dead_letter
from crm_shared.mongo.client import is_transient
from crm_shared.mongo.inbox import AlreadyProcessed, Inbox
from crm_shared.mongo.unit_of_work import Tx, UnitOfWork
from crm_shared.observability import metrics

log = structlog.get_logger(__name__)

Handler = Callable[[CloudEvent[Any], Tx], Awaitable[None]]

PROCESSED = "processed"
DUPLICATE = "duplicate"
IGNORED = "ignored"
DEAD_LETTERED = "dead_lettered"


class ConsumerStopping(Exception):
    """Shutdown interrupted a retry: the batch is not committed and will be redelivered."""


async def _raw_body(message: StreamMessage[Any]) -> Any:
    # Decoding is ours (decode_event): a malformed value must reach the DLQ, not crash here.
    return message.body


class EventConsumer:
    def __init__(
        self,
        topic: Topic,
        *,
        uow: UnitOfWork,
        broker: KafkaBroker,
        service: str,
        name: str | None = None,
        max_attempts: int = 5,
        retry_base_seconds: float = 0.2,
        retry_max_seconds: float = 10.0,
        batch_size: int = 100,
        group: str | None = None,
    ) -> None:
        self.topic = topic
        self.group = group or consumer_group(service)
        self._uow = uow
        self._broker = broker
        self._service = service
        self._inbox = Inbox(uow.db, name or f"{service}:{topic.name}")
        self._handlers: dict[str, Handler] = {}
        self._max_attempts = max_attempts
        self._wait = wait_random_exponential(multiplier=retry_base_seconds, max=retry_max_seconds)
        self._batch_size = batch_size
        self._stopping = asyncio.Event()

    def on(self, *models: type[EventData]) -> Callable[[Handler], Handler]:
        """Register a handler for events of these types (they must belong on this topic)."""

        def register(handler: Handler) -> Handler:
            for model in models:
                if model.topic != self.topic:
                    raise ValueError(f"{model.type_name()} is not published on {self.topic.name}")
                self._handlers[model.type_name()] = handler
            return handler

        return register

    def subscribe(
        self, *, session_timeout_ms: int = 10_000, heartbeat_interval_ms: int = 3_000
    ) -> None:
        """Attach to the broker as a batch subscriber in this service's consumer group."""
        subscriber = self._broker.subscriber(
            self.topic.name,
            group_id=self.group,
            batch=True,
            max_records=self._batch_size,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            decoder=_raw_body,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            title=f"{self._service}:{self.topic.name}",
            description=f"{self._service} consumes {self.topic.description}",
        )
        subscriber(self.handle_batch)

    def stop(self) -> None:
        """Interrupt retries so shutdown does not wait for a database that is away."""
        self._stopping.set()

    async def handle_batch(self, body: list[Any], msg: KafkaMessage) -> None:
        records: tuple[ConsumerRecord[Any, Any], ...] = msg.raw_message  # type: ignore[assignment]
        try:
            for record in records:
                await self.process(record)
        except Exception:
            # Rewind to the batch start: processed records are skipped by the inbox next time.
            await msg.nack()
            if not self._stopping.is_set():
                log.exception("batch failed; it will be consumed again", topic=self.topic.name)
                await asyncio.sleep(1)
            return
        await msg.ack()

    async def process(self, record: ConsumerRecord[Any, Any]) -> str:
        """Apply one record; return its outcome (processed, duplicate, ignored, dead_lettered)."""
        started = time.perf_counter()
        try:
            event = decode_event(record.value, record.topic)
        except InvalidEvent as error:
            await self._dead_letter(record, error, attempts=1, type_name="invalid")
            return DEAD_LETTERED
        handler = self._handlers.get(event.type)
        if handler is None:
            return self._count(event.type, IGNORED)
        with structlog.contextvars.bound_contextvars(event_id=str(event.id), event_type=event.type):
            outcome = await self._apply_with_retries(record, event, handler)
        metrics.EVENT_PROCESSING_SECONDS.labels(self._service, self.topic.name).observe(
            time.perf_counter() - started
        )
        return outcome

    async def _apply_with_retries(
        self, record: ConsumerRecord[Any, Any], event: CloudEvent[Any], handler: Handler
    ) -> str:
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(lambda e: not isinstance(e, ConsumerStopping)),
                stop=self._give_up,
                wait=self._wait,
                sleep=self._sleep,
                before_sleep=self._note_retry,
                reraise=True,
            ):
                with attempt:
                    return await self._apply(event, handler)
        except ConsumerStopping:
            raise
        except Exception as error:
            attempts = self._max_attempts
            log.error("event failed; sent to the DLQ", error=str(error), attempts=attempts)
            await self._dead_letter(record, error, attempts=attempts, type_name=event.type)
            return DEAD_LETTERED
        raise AssertionError("unreachable")  # pragma: no cover

    async def _apply(self, event: CloudEvent[Any], handler: Handler) -> str:
        async def work(tx: Tx) -> None:
            await self._inbox.record(tx, event)
            await handler(event, tx)

        try:
            await self._uow.run(work)
        except AlreadyProcessed:
            return self._count(event.type, DUPLICATE)
        return self._count(event.type, PROCESSED)

    def _give_up(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        if error is not None and is_transient(error):
            return False  # the database is away, not the event at fault: wait for it
        return state.attempt_number >= self._max_attempts

    async def _sleep(self, seconds: float) -> None:
        if self._stopping.is_set():
            raise ConsumerStopping
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return
        raise ConsumerStopping

    def _note_retry(self, state: RetryCallState) -> None:
        metrics.EVENT_RETRIES.labels(self._service, self.topic.name).inc()
        error = state.outcome.exception() if state.outcome else None
        log.warning("event failed; retrying", attempt=state.attempt_number, error=str(error))

    async def _dead_letter(
        self,
        record: ConsumerRecord[Any, Any],
        error: BaseException,
        *,
        attempts: int,
        type_name: str,
    ) -> None:
        await publish_dead_letter(self._broker, record, error, group=self.group, attempts=attempts)
        log.warning(
            "dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=str(error)[:300],
        )
        self._count(type_name, DEAD_LETTERED)

    def _count(self, type_name: str, outcome: str) -> str:
        metrics.EVENTS_CONSUMED.labels(self._service, self.topic.name, type_name, outcome).inc()
        return outcome
