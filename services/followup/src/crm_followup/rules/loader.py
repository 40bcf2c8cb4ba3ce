"""Load and validate the rules file; errors name the file, the rule and the field."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from crm_followup.rules.models import RulesFile

DEFAULT_RULES = "default_rules.yaml"


class RulesError(ValueError):
    """The rules file cannot be used; the message says where and why."""


def default_rules_path() -> Path:
    return Path(str(resources.files("crm_followup.rules").joinpath(DEFAULT_RULES)))


def load_rules(path: Path | str | None = None) -> RulesFile:
    """The rules in `path` (default: the file shipped in this package)."""
    source = Path(path) if path else default_rules_path()
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesError(f"rules file {source}: cannot be read: {error.strerror}") from None
    return parse_rules(text, origin=str(source))


def parse_rules(text: str, *, origin: str = "<rules>") -> RulesFile:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise RulesError(f"rules file {origin}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise RulesError(f"rules file {origin}: expected a mapping with `version` and `rules`")
    try:
        return RulesFile.model_validate(document)
    except ValidationError as error:
        lines = [_describe(item, document) for item in error.errors(include_url=False)]
        raise RulesError(f"rules file {origin}:\n  " + "\n  ".join(lines)) from None


def _describe(item: Any, document: dict[str, Any]) -> str:
    location = list(item["loc"])
    message = item["msg"].removeprefix("Value error, ")
    if len(location) >= 2 and location[0] == "rules" and isinstance(location[1], int):
        index = location[1]
        rules = document.get("rules") or []
        raw = rules[index] if index < len(rules) else None
        name = raw.get("name") if isinstance(raw, dict) else None
        rule = f"rule {name!r}" if name else f"rule #{index + 1}"
        field = ".".join(str(part) for part in location[2:]) or "(the rule)"
        return f"{rule}, field {field}: {message}"
    field = ".".join(str(part) for part in location) or "(file)"
    return f"field {field}: {message}"
