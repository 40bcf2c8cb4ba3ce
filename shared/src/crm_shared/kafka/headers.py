"""Kafka header names used across the system."""

DLQ_ERROR = "x-dlq-error"
DLQ_ERROR_TYPE = "x-dlq-error-type"
DLQ_GROUP = "x-dlq-consumer-group"
DLQ_TOPIC = "x-dlq-original-topic"
DLQ_PARTITION = "x-dlq-original-partition"
DLQ_OFFSET = "x-dlq-original-offset"
DLQ_FAILED_AT = "x-dlq-failed-at"
DLQ_ATTEMPTS = "x-dlq-attempts"
DLQ_TRUNCATED = "x-dlq-truncated"  # original size in bytes, when the value was cut

DLQ_HEADERS = (
    DLQ_ERROR,
    DLQ_ERROR_TYPE,
    DLQ_GROUP,
    DLQ_TOPIC,
    DLQ_PARTITION,
    DLQ_OFFSET,
    DLQ_FAILED_AT,
    DLQ_ATTEMPTS,
)
# Present only when it applies; stripped on replay like the others.
DLQ_OPTIONAL_HEADERS = (DLQ_TRUNCATED,)
# A header value is capped so one huge error message cannot make the DLQ record too large.
MAX_HEADER_VALUE = 2_000


def decode_headers(raw: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> dict[str, str]:
    return {key: value.decode("utf-8", "replace") for key, value in raw}
