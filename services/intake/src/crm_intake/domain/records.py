"""Pure helpers for change records: JSON merge patch, field diffs, and erasure scrubbing."""

from typing import Any

MISSING = object()


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge recursively, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields whose value changed, with (old, new); absent counts as None."""
    changes = {}
    for key in old.keys() | new.keys():
        before, after = old.get(key), new.get(key)
        if before != after:
            changes[key] = (before, after)
    return dict(sorted(changes.items()))


def scrub(value: Any, secrets: list[str], replacement: str) -> Any:
    """`value` with every occurrence of each secret string replaced, at any depth."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in sorted(secrets, key=len, reverse=True):
            if secret and secret.casefold() in value.casefold():
                value = _replace_folded(value, secret, replacement)
        return value
    if isinstance(value, dict):
        return {key: scrub(item, secrets, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, secrets, replacement) for item in value]
    return value


def _replace_folded(text: str, secret: str, replacement: str) -> str:
    # Case-insensitive replace: "ANNA SCHMIDT" in a summary is the same person.
    lowered, needle = text.lower(), secret.lower()
    if len(lowered) != len(text):  # casefold changed lengths: fall back to exact match
        return text.replace(secret, replacement)
    out, start = [], 0
    while (found := lowered.find(needle, start)) >= 0:
        out.append(text[start:found])
        out.append(replacement)
        start = found + len(needle)
    out.append(text[start:])
    return "".join(out)
