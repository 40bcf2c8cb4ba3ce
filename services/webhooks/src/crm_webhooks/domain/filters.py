"""Which event types a subscription receives: patterns such as `contact.*`.

A pattern names an event without the `warmyang.` prefix and version suffix:
`enterprise.stage_changed` (one type), `contact.*` (every contact event) or `*`
(everything relayed). The full type (`warmyang.contact.added.v1`) is accepted too.
"""

import re
from collections.abc import Iterable

from crm_shared.contracts.base import TYPE_PREFIX

_PATTERN = re.compile(r"^(\*|[a-z_]+\.(\*|[a-z_]+))$")
_VERSION = re.compile(r"\.v[0-9]+$")


class InvalidFilter(ValueError):
    pass


def event_name(type_name: str) -> str:
    """`warmyang.contact.added.v1` -> `contact.added`."""
    return _VERSION.sub("", type_name.removeprefix(TYPE_PREFIX))


def normalise(pattern: str) -> str:
    """The canonical form of a pattern, or InvalidFilter saying what a pattern looks like."""
    text = pattern.strip()
    if text.startswith(TYPE_PREFIX):
        text = event_name(text)
    if not _PATTERN.match(text):
        raise InvalidFilter(
            f"{pattern!r} is not an event filter; use e.g. `contact.*`, "
            "`enterprise.stage_changed` or `*`"
        )
    return text


def matches(pattern: str, type_name: str) -> bool:
    name = event_name(type_name)
    if pattern == "*":
        return True
    family, _, event = pattern.partition(".")
    return name == pattern or (event == "*" and name.split(".", 1)[0] == family)


def matches_any(patterns: Iterable[str], type_name: str) -> bool:
    return any(matches(pattern, type_name) for pattern in patterns)


def validate(patterns: Iterable[str], relayed_types: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated patterns; each must select at least one relayed type."""
    known = list(relayed_types)
    result: list[str] = []
    for pattern in patterns:
        canonical = normalise(pattern)
        if not any(matches(canonical, type_name) for type_name in known):
            raise InvalidFilter(f"{pattern!r} selects no event type relayed here")
        if canonical not in result:
            result.append(canonical)
    return result
