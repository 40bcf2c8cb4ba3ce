"""Erasing a contact from stored copies of events (outbox records, webhook bodies).

`contact.erased` obliges every service to delete what it holds on that contact,
and that includes the events it keeps. The personal fields of events that name
the contact are replaced, and so is every other occurrence of those values in the
same firm's events (a greeting with the name, for instance).
"""

import json
from collections.abc import Iterable
from typing import Any

ERASED = "[erased]"
PERSONAL_FIELDS = ("full_name", "email", "phone", "recipient", "recipient_name")


def personal_values(documents: Iterable[dict[str, Any]], contact_id: str) -> set[str]:
    """The personal data the given CloudEvents hold on `contact_id`."""
    values: set[str] = set()
    for document in documents:
        data = document.get("data")
        if isinstance(data, dict) and data.get("contact_id") == contact_id:
            values |= {str(data[f]) for f in PERSONAL_FIELDS if data.get(f) not in (None, "")}
    values.discard(ERASED)
    return values


def scrub(value: Any, secrets: set[str]) -> tuple[Any, bool]:
    """`value` with every string containing one of `secrets` replaced; and whether it changed."""
    if isinstance(value, str):
        if any(secret in value for secret in secrets):
            cleaned = value
            for secret in sorted(secrets, key=len, reverse=True):
                cleaned = cleaned.replace(secret, ERASED)
            return cleaned, True
        return value, False
    if isinstance(value, dict):
        changed = False
        result = {}
        for key, item in value.items():
            result[key], touched = scrub(item, secrets)
            changed |= touched
        return result, changed
    if isinstance(value, list):
        items = [scrub(item, secrets) for item in value]
        return [item for item, _ in items], any(touched for _, touched in items)
    return value, False


def scrub_event_bytes(raw: bytes, secrets: set[str]) -> bytes | None:
    """The event with `secrets` erased, or None when it held none of them."""
    cleaned, changed = scrub(json.loads(raw), secrets)
    return json.dumps(cleaned, ensure_ascii=False).encode() if changed else None
