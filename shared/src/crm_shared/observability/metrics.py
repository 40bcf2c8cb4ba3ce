"""Prometheus metrics shared by every service (served at /metrics)."""

from prometheus_client import Counter, Histogram

EVENTS_CONSUMED = Counter(
    "crm_events_consumed_total",
    "Events taken from Kafka, by outcome (processed, duplicate, ignored, dead_lettered)",
    ["service", "topic", "type", "outcome"],
)
EVENT_PROCESSING_SECONDS = Histogram(
    "crm_event_processing_seconds",
    "Time to process one event, including its transaction",
    ["service", "topic"],
)
EVENT_RETRIES = Counter(
    "crm_event_retries_total",
    "Retries of a failing event before success or DLQ",
    ["service", "topic"],
)
OUTBOX_PUBLISHED = Counter(
    "crm_outbox_published_total", "Outbox records published to Kafka", ["service"]
)
