"""From a CloudEvent `type` to its payload model, and back to bytes."""

import json
from typing import Any

from pydantic import ValidationError

from crm_shared.contracts.base import EventData
from crm_shared.contracts.envelope import CloudEvent
from crm_shared.contracts.followup import FOLLOWUP_EVENTS
from crm_shared.contracts.lifecycle import LIFECYCLE_EVENTS
from crm_shared.contracts.notification import NOTIFICATION_EVENTS

ALL_EVENTS: tuple[type[EventData], ...] = LIFECYCLE_EVENTS + FOLLOWUP_EVENTS + NOTIFICATION_EVENTS
EVENT_TYPES: dict[str, type[EventData]] = {model.type_name(): model for model in ALL_EVENTS}


class InvalidEvent(ValueError):
    """A message that can never be processed: it goes to the dead-letter topic."""


class UnknownEventType(InvalidEvent):
    pass


def events_on(topic_name: str) -> tuple[type[EventData], ...]:
    return tuple(model for model in ALL_EVENTS if model.topic.name == topic_name)


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "(event)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


def decode_event(raw: bytes | str | None, topic: str | None = None) -> CloudEvent[Any]:
    """Parse and validate a structured-mode CloudEvent; raise InvalidEvent if it is not one.

    With `topic`, an event type that does not belong on that topic is invalid too.
    """
    if raw is None:
        raise InvalidEvent("empty message (no value)")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidEvent(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidEvent("not a JSON object")
    type_name = document.get("type")
    model = EVENT_TYPES.get(type_name) if isinstance(type_name, str) else None
    if model is None:
        raise UnknownEventType(f"unknown event type {type_name!r}")
    if topic is not None and model.topic.name != topic.removesuffix(".dlq"):
        raise InvalidEvent(f"{type_name} does not belong on topic {topic}")
    try:
        return CloudEvent[model].model_validate(document)  # type: ignore[valid-type]
    except ValidationError as error:
        raise InvalidEvent(f"invalid {type_name}: {_describe(error)}") from None
