"""Dead letters: a message that cannot be processed goes to `<topic>.dlq`, with why.

The value and key are kept byte for byte, so a replay re-publishes the original.
"""

from datetime import datetime
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from crm_shared.contracts import utcnow
from crm_shared.contracts.topics import DLQ_SUFFIX
from crm_shared.kafka import headers as h

# The broker's default message limit is 1 MiB; headers and batch overhead need room too.
MAX_DEAD_LETTER_VALUE = 900 * 1024


def dead_letter_headers(
    record: ConsumerRecord[Any, Any],
    error: BaseException,
    *,
    group: str,
    attempts: int,
    failed_at: datetime | None = None,
) -> dict[str, str]:
    original = {
        key: value.decode("utf-8", "replace")
        for key, value in (record.headers or ())
        if key not in (*h.DLQ_HEADERS, *h.DLQ_OPTIONAL_HEADERS)
    }
    return {
        **original,
        h.DLQ_ERROR: str(error)[: h.MAX_HEADER_VALUE] or type(error).__name__,
        h.DLQ_ERROR_TYPE: type(error).__name__,
        h.DLQ_GROUP: group,
        h.DLQ_TOPIC: record.topic,
        h.DLQ_PARTITION: str(record.partition),
        h.DLQ_OFFSET: str(record.offset),
        h.DLQ_FAILED_AT: (failed_at or utcnow()).isoformat(),
        h.DLQ_ATTEMPTS: str(attempts),
    }


async def publish_dead_letter(
    broker: KafkaBroker,
    record: ConsumerRecord[Any, Any],
    error: BaseException,
    *,
    group: str,
    attempts: int,
) -> None:
    """Send the record to its DLQ (same partition number) and wait for the broker's ack.

    A value near the broker's size limit would not fit with the dlq headers added:
    it is cut, and `x-dlq-truncated` says so (the original stays on its topic).
    """
    value = record.value if record.value is not None else b""
    headers = dead_letter_headers(record, error, group=group, attempts=attempts)
    if len(value) > MAX_DEAD_LETTER_VALUE:
        value = value[:MAX_DEAD_LETTER_VALUE]
        headers[h.DLQ_TRUNCATED] = str(len(record.value))
    await broker.publish(
        value,
        topic=record.topic + DLQ_SUFFIX,
        key=record.key,
        partition=record.partition,
        headers=headers,
    )
