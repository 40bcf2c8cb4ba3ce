"""The README's settings table, generated from the settings classes of every service.

`python tests/settings_table.py --write` rewrites the table between the markers in
README.md; tests/unit/test_settings_table.py fails when the table is stale.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from crm_shared.settings import ENV_PREFIX, ServiceSettings

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN = "<!-- settings-table:begin (generated: make settings-doc) -->"
END = "<!-- settings-table:end -->"
SERVICES = ["intake", "followup", "notification", "webhooks"]


def _service_classes() -> list[tuple[str, type[BaseSettings]]]:
    found = []
    for service in SERVICES:
        try:
            module = importlib.import_module(f"crm_{service}.settings")
        except ModuleNotFoundError:
            continue
        classes = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, ServiceSettings)
            and value is not ServiceSettings
        ]
        found.extend((service, cls) for cls in classes)
    return found


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "*(required)*"
    value: Any = field.get_default(call_default_factory=True)
    if hasattr(value, "get_secret_value"):
        return "*(secret; dev placeholder)*"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    text = getattr(value, "value", value)
    return f"`{text}`" if text != "" else "*(empty)*"


def _row(name: str, field: FieldInfo, used_by: str) -> str:
    description = (field.description or "").replace("|", "\\|")
    return f"| `{ENV_PREFIX}{name.upper()}` | {_default(field)} | {used_by} | {description} |"


def render() -> str:
    lines = ["| variable | default | used by | meaning |", "|---|---|---|---|"]
    for name, field in ServiceSettings.model_fields.items():
        lines.append(_row(name, field, "all services"))
    for service, cls in _service_classes():
        for name, field in cls.model_fields.items():
            if name not in ServiceSettings.model_fields:
                lines.append(_row(name, field, service))
    return "\n".join(lines)


def current() -> str | None:
    text = README.read_text()
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def write() -> None:
    text = README.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{BEGIN}\n{render()}\n{END}{tail}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true")
    if parser.parse_args().write:
        write()
    else:
        sys.stdout.write(render() + "\n")
