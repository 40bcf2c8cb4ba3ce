"""The AsyncAPI 3 document of every topic, built from the contract registry.

Why not FastStream's generator: in the FastStream version we use, a publisher
becomes one anonymous message with a `oneOf` payload, with no message headers
(our `content-type`, `ce_id`, `ce_type` and the dead-letter headers), no Kafka
message binding (the key), no topic configuration (retention) and a
`correlation_id` header our messages never carry; its server is whatever
broker address the process was started with, so the committed copy would differ
per machine. The registry already knows every topic, type and schema, so the
document is built from it, and `stale_asyncapi` (like `stale_schemas`) keeps the
committed copy under `docs/` honest.
"""

import json
from pathlib import Path
from typing import Any

from crm_shared.contracts.base import EventData
from crm_shared.contracts.envelope import CONTENT_TYPE
from crm_shared.contracts.registry import ALL_EVENTS, events_on
from crm_shared.contracts.schemas import event_schema
from crm_shared.contracts.topics import (
    ALL_TOPICS,
    DLQ_RETENTION_MS,
    FOLLOWUP,
    LIFECYCLE,
    NOTIFICATION,
    NOTIFICATION_REQUESTS,
    Topic,
)
from crm_shared.kafka import headers as h

ASYNCAPI_VERSION = "3.0.0"
# The contract's version: the major follows the `.v1` of topics and types.
CONTRACT_VERSION = "1.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
DOCUMENT_ID = "urn:warmyang:crm:events"

# Who writes each topic (the CloudEvent `source` is `/warmyang/<producer>`).
PRODUCERS: dict[str, str] = {
    LIFECYCLE.name: "intake",
    FOLLOWUP.name: "followup",
    NOTIFICATION_REQUESTS.name: "followup",
    NOTIFICATION.name: "notification",
}
# Topics district systems may subscribe to; the rest are the services' own plumbing.
PUBLIC_TOPICS: tuple[Topic, ...] = (LIFECYCLE, FOLLOWUP, NOTIFICATION)

KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": "The enterprise id (UTF-8), equal to the CloudEvent `subject`. "
    "All events of one firm share it, so they are in order on one partition.",
}
DLQ_HEADER_DESCRIPTIONS: dict[str, str] = {
    h.DLQ_ERROR: "Why processing failed (truncated to 2,000 characters)",
    h.DLQ_ERROR_TYPE: "The exception class, e.g. `InvalidEvent`",
    h.DLQ_GROUP: "Consumer group that gave up on the message",
    h.DLQ_TOPIC: "Topic the message was read from",
    h.DLQ_PARTITION: "Partition it was read from (the DLQ uses the same partition number)",
    h.DLQ_OFFSET: "Its offset there",
    h.DLQ_FAILED_AT: "When it was dead-lettered (RFC 3339, UTC)",
    h.DLQ_ATTEMPTS: "How many times processing was attempted",
}


DLQ_OPTIONAL_HEADER_DESCRIPTIONS: dict[str, str] = {
    h.DLQ_TRUNCATED: "Set when the value was cut to fit the broker's size limit: the original "
    "size in bytes (the whole original stays on its topic at the named offset)",
}


def channel_id(topic_name: str) -> str:
    """`crm.enterprise.lifecycle.v1` -> `crm_enterprise_lifecycle_v1` (ids allow no dots)."""
    return topic_name.replace(".", "_")


def message_key(model: type[EventData]) -> str:
    return model.event_name.replace(".", "_")


def _ref(*path: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(path)}


def _hoist_defs(schema: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """Move `$defs` into components/schemas and point the `$ref`s there.

    A `$ref` to `#/$defs/X` inside a component would resolve against the whole
    AsyncAPI document, so the definitions must live where the references lead.
    """
    for name, definition in schema.pop("$defs", {}).items():
        definition = _rewrite_refs(definition)
        if shared.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are both called {name!r}; rename one")
    for key in ("$schema", "$id"):  # an `$id` would also change how the references resolve
        schema.pop(key, None)
    return _rewrite_refs(schema)


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                value.replace("#/$defs/", "#/components/schemas/")
                if key == "$ref" and isinstance(value, str)
                else _rewrite_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def _event_headers(type_name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["content-type", "ce_id", "ce_type"],
        "properties": {
            "content-type": {
                "type": "string",
                "const": CONTENT_TYPE,
                "description": "Structured-mode CloudEvent: the value holds the whole event",
            },
            "ce_id": {
                "type": "string",
                "format": "uuid",
                "description": "The event `id`, so it can be read without parsing the value",
            },
            "ce_type": {
                "type": "string",
                "const": type_name,
                "description": "The event `type`, for routing without parsing the value",
            },
        },
    }


def _message(model: type[EventData]) -> dict[str, Any]:
    type_name = model.type_name()
    summary = (model.__doc__ or "").strip().splitlines()
    return {
        "name": model.event_name,
        "title": type_name,
        "summary": summary[0] if summary else f"`{model.event_name}` on {model.topic.name}",
        "contentType": CONTENT_TYPE,
        "headers": _event_headers(type_name),
        "payload": _ref("components", "schemas", type_name),
        "bindings": {"kafka": {"key": KEY_SCHEMA, "bindingVersion": KAFKA_BINDING_VERSION}},
        "x-json-schema": f"/schemas/{type_name}.json",
    }


def _dead_letter_message() -> dict[str, Any]:
    properties: dict[str, Any] = {
        name: {"type": "string", "description": text}
        for name, text in {**DLQ_HEADER_DESCRIPTIONS, **DLQ_OPTIONAL_HEADER_DESCRIPTIONS}.items()
    }
    return {
        "name": "dead_letter",
        "title": "Dead letter",
        "summary": "A message a consumer could not process, with why",
        "description": "Key and value are the original message's, byte for byte (the value "
        "may be an invalid event); the original headers are kept, and the `x-dlq-*` headers "
        "added. `crm-dlq list|replay <topic>` reads and re-publishes them.",
        "headers": {
            "type": "object",
            "required": list(DLQ_HEADER_DESCRIPTIONS),
            "properties": properties,
            "additionalProperties": {"type": "string"},
        },
        "payload": {"description": "The original message value, unchanged"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": "The original message key"},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _channel(topic: Topic, messages: dict[str, Any], *, dlq: bool) -> dict[str, Any]:
    retention = DLQ_RETENTION_MS if dlq else topic.retention_ms
    kept = "forever" if retention < 0 else f"{retention // 86_400_000} days"
    description = (
        f"Dead letters of `{topic.name}`." if dlq else f"{topic.description} History kept {kept}."
    )
    return {
        "address": topic.dlq if dlq else topic.name,
        "title": topic.dlq if dlq else topic.name,
        "description": description,
        "servers": [_ref("servers", "kafka")],
        "messages": messages,
        "bindings": {
            "kafka": {
                "topic": topic.dlq if dlq else topic.name,
                "partitions": topic.partitions,
                "topicConfiguration": {"cleanup.policy": ["delete"], "retention.ms": retention},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-audience": "public" if topic in PUBLIC_TOPICS and not dlq else "internal",
    }


def build_asyncapi() -> dict[str, Any]:
    """The whole document, deterministic for a given code base."""
    schemas: dict[str, Any] = {}
    shared: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for model in ALL_EVENTS:
        schemas[model.type_name()] = _hoist_defs(event_schema(model), shared)
        messages[model.type_name()] = _message(model)
    messages["dead_letter"] = _dead_letter_message()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        cid, dlq_id = channel_id(topic.name), channel_id(topic.dlq)
        members = {
            message_key(m): _ref("components", "messages", m.type_name())
            for m in events_on(topic.name)
        }
        channels[cid] = _channel(topic, members, dlq=False)
        channels[dlq_id] = _channel(
            topic, {"dead_letter": _ref("components", "messages", "dead_letter")}, dlq=True
        )
        producer = PRODUCERS[topic.name]
        operations[f"publish_{cid}"] = {
            "action": "send",
            "channel": _ref("channels", cid),
            "title": f"{producer} publishes to {topic.name}",
            "summary": f"Published by `/warmyang/{producer}` through its transactional outbox.",
            "messages": [_ref("channels", cid, "messages", key) for key in members],
        }
        operations[f"dead_letter_{cid}"] = {
            "action": "send",
            "channel": _ref("channels", dlq_id),
            "title": f"Consumers of {topic.name} dead-letter what they cannot process",
            "messages": [_ref("channels", dlq_id, "messages", "dead_letter")],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": DOCUMENT_ID,
        "info": {
            "title": "Warm Yang CRM events",
            "version": CONTRACT_VERSION,
            "description": _INFO,
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "The district's Kafka cluster",
                "variables": {
                    "bootstrap": {
                        "default": "127.0.0.1:9092",
                        "description": "host:port of a broker (local development default)",
                    }
                },
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {**schemas, **dict(sorted(shared.items()))},
            "messages": messages,
        },
    }


_INFO = """Events of the Warm Yang CRM (Yangpu District service desk for foreign firms).

Every message value is a CloudEvents 1.0 structured-mode JSON event; the key is the
enterprise id, so the events of one firm are in order (one partition). Delivery is at
least once: deduplicate by the event `id`. Contact events carry personal data, and
`contact.erased` obliges every consumer to delete what it holds on that contact.
A v1 type only grows by optional fields; a breaking change is a new type version.
The JSON Schema of each type is served at `/schemas/<type>.json` and committed under
`docs/schemas/`; the subscriber guide is `docs/subscribers.md`."""


def render_asyncapi() -> str:
    return json.dumps(build_asyncapi(), indent=2, ensure_ascii=False) + "\n"


def write_asyncapi(path: Path) -> bool:
    """Write the document if it changed; return whether it did."""
    text = render_asyncapi()
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def stale_asyncapi(path: Path) -> list[str]:
    """What is wrong with the committed document (empty when it matches the code)."""
    if not path.exists():
        return [f"missing: {path.name}"]
    if path.read_text() != render_asyncapi():
        return [f"differs from the code: {path.name}"]
    return []
