"""Event contracts: the CloudEvents envelope, every payload type, the topics."""

from crm_shared.contracts.base import EventData
from crm_shared.contracts.envelope import CONTENT_TYPE, CloudEvent, new_event, utcnow
from crm_shared.contracts.registry import (
    ALL_EVENTS,
    EVENT_TYPES,
    InvalidEvent,
    UnknownEventType,
    decode_event,
    events_on,
)
from crm_shared.contracts.topics import ALL_TOPICS, Topic, topic_named

__all__ = [
    "ALL_EVENTS",
    "ALL_TOPICS",
    "CONTENT_TYPE",
    "EVENT_TYPES",
    "CloudEvent",
    "EventData",
    "InvalidEvent",
    "Topic",
    "UnknownEventType",
    "decode_event",
    "events_on",
    "new_event",
    "topic_named",
    "utcnow",
]
