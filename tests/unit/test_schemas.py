"""The committed JSON Schemas are what the code generates, and events validate against them."""

import json
from pathlib import Path

import jsonschema
import pytest

from crm_shared.contracts import EVENT_TYPES, new_event
from crm_shared.contracts.lifecycle import ContactAdded, InteractionLogged
from crm_shared.contracts.schemas import event_schema, stale_schemas

pytestmark = pytest.mark.unit

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_committed_schemas_match_the_code() -> None:
    assert stale_schemas(SCHEMA_DIR) == [], "run `crm-schemas write` and commit docs/schemas"


def test_stale_check_notices_a_changed_file(tmp_path: Path) -> None:
    for source in SCHEMA_DIR.glob("*.json"):
        (tmp_path / source.name).write_text(source.read_text())
    victim = tmp_path / "warmyang.contact.added.v1.json"
    victim.write_text(victim.read_text().replace('"full_name"', '"fullname"'))
    assert stale_schemas(tmp_path) == ["differs from the code: warmyang.contact.added.v1.json"]


def test_every_type_has_a_committed_schema() -> None:
    assert {p.stem for p in SCHEMA_DIR.glob("*.json")} == set(EVENT_TYPES)


@pytest.mark.parametrize(
    "data",
    [
        ContactAdded(
            enterprise_id="e1", contact_id="c1", full_name="王芳", email="wang@example.com",
            language="zh", timezone="Asia/Shanghai", email_consent=True,
        ),
        InteractionLogged(
            enterprise_id="e1", interaction_id="i1", kind="meeting",
            occurred_at="2026-11-20T09:30:00+08:00", contact_ids=["c1"],
        ),
    ],
    ids=["contact.added", "interaction.logged"],
)  # fmt: skip
def test_events_validate_against_their_committed_schema(data: object) -> None:
    event = new_event(data, service="intake", subject="e1")  # type: ignore[arg-type]
    schema = json.loads((SCHEMA_DIR / f"{event.type}.json").read_text())
    jsonschema.validate(json.loads(event.to_json()), schema)


def test_schema_pins_the_type_and_rejects_another() -> None:
    schema = event_schema(ContactAdded)
    event = json.loads(
        new_event(
            ContactAdded(enterprise_id="e1", contact_id="c1", full_name="A"),
            service="intake",
            subject="e1",
        ).to_json()
    )
    event["type"] = "warmyang.contact.updated.v1"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(event, schema)
