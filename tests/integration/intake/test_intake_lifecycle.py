"""A firm's whole walk from first contact to established partnership, through the API."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest

from crm_intake.domain.validation import CREDIT_CODE_ALPHABET, credit_code_check_character
from crm_shared.auth.tokens import Role
from crm_shared.contracts.topics import LIFECYCLE
from support import TopicReader

from .conftest import BASE, create_firm

pytestmark = [pytest.mark.integration]


def credit_code() -> str:
    body = "9131" + "".join(random.choice(CREDIT_CODE_ALPHABET) for _ in range(13))
    return body + credit_code_check_character(body)


async def patch(http: httpx.AsyncClient, firm: dict[str, Any], changes: dict) -> dict[str, Any]:
    response = await http.patch(
        f"{BASE}/{firm['id']}",
        json=changes,
        headers={
            "If-Match": f'"{firm["version"]}"',
            "Content-Type": "application/merge-patch+json",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == f'"{response.json()["version"]}"'
    return response.json()


async def move(
    http: httpx.AsyncClient, firm: dict[str, Any], to: str, **extra: Any
) -> httpx.Response:
    return await http.post(f"{BASE}/{firm['id']}/transitions", json={"to_stage": to, **extra})


async def test_a_firm_walks_from_first_contact_to_established_partnership(
    clients: dict[Role, httpx.AsyncClient], kafka_bootstrap: str
) -> None:
    officer, manager = clients[Role.OFFICER], clients[Role.MANAGER]
    officer_name = (await officer.get("/api/v1/me")).json()["id"]
    manager_name = (await manager.get("/api/v1/me")).json()["id"]
    firm = await create_firm(officer)

    jump = await move(officer, firm, "landed")
    assert jump.status_code == 422
    assert jump.json()["type"] == "urn:warmyang:problem:transition-refused"
    assert [e["field"] for e in jump.json()["errors"]] == [
        "sector",
        "needs",
        "owner",
        "interactions",
        "planned_investment",
        "target_date",
        "credit_code",
        "landing_date",
    ]

    firm = await patch(
        officer,
        firm,
        {"sector": "automotive", "needs": ["office_space", "talent"], "owner": manager_name},
    )
    assert (await move(officer, firm, "qualified")).status_code == 200
    meeting = await officer.post(
        f"{BASE}/{firm['id']}/interactions",
        json={
            "kind": "meeting",
            "occurred_at": "2025-03-03T10:00:00+08:00",
            "summary": "Office tour at Innovation Center",
            "contact_ids": [firm["contacts"][0]["id"]],
            "next_step": "send lease offer",
            "next_step_due": "2025-03-10",
        },
    )
    assert meeting.status_code == 201, meeting.text
    assert (await move(officer, firm, "engaged")).status_code == 200
    firm = (await officer.get(f"{BASE}/{firm['id']}")).json()
    firm = await patch(
        officer,
        firm,
        {
            "planned_investment": {"amount": "5000000", "currency": "eur"},
            "target_date": "2025-12-01",
        },
    )
    assert firm["planned_investment"] == {"amount": "5000000", "currency": "EUR"}
    assert (await move(officer, firm, "negotiating")).status_code == 200
    firm = (await officer.get(f"{BASE}/{firm['id']}")).json()
    firm = await patch(officer, firm, {"credit_code": credit_code(), "landing_date": "2025-11-20"})
    assert (await move(officer, firm, "landed", reason="licence granted")).status_code == 200
    firm = (await officer.get(f"{BASE}/{firm['id']}")).json()
    firm = await patch(
        officer,
        firm,
        {
            "partnerships": [{"partner_organisation": "Tongji University", "kind": "research"}],
            "aftercare_owner": manager_name,
        },
    )
    done = await move(officer, firm, "established_partnership")
    assert done.status_code == 200, done.text
    assert done.json()["stage"] == "established_partnership"

    # Removing what the stage needs is refused, naming the field.
    firm = done.json()
    refused = await officer.patch(
        f"{BASE}/{firm['id']}",
        json={"credit_code": None},
        headers={"If-Match": f'"{firm["version"]}"'},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "credit_code"

    async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as reader:

        def stage_changes(records: list) -> list[dict]:
            events = [json.loads(r.value) for r in records if r.key == firm["id"].encode()]
            return [
                e["data"] for e in events if e["type"] == "warmyang.enterprise.stage_changed.v1"
            ]

        await reader.read_until(lambda records: len(stage_changes(records)) >= 5)
    changes = stage_changes(reader.records)
    assert [(c["from_stage"], c["to_stage"]) for c in changes] == [
        ("first_contact", "qualified"),
        ("qualified", "engaged"),
        ("engaged", "negotiating"),
        ("negotiating", "landed"),
        ("landed", "established_partnership"),
    ]
    assert {c["actor"] for c in changes} == {officer_name}
    assert changes[3]["reason"] == "licence granted"

    timeline = (await officer.get(f"{BASE}/{firm['id']}/timeline")).json()["entries"]
    kinds = [e["kind"] for e in timeline]
    assert kinds.count("stage_changed") == 6  # created + five moves
    assert "interaction" in kinds
    edits = [e for e in timeline if e["kind"] == "audit" and e["detail"]["action"] == "updated"]
    sector_edit = next(e for e in edits if "sector" in e["detail"]["changes"])
    assert sector_edit["actor"] == officer_name
    assert sector_edit["detail"]["changes"]["sector"] == {"old": None, "new": "automotive"}
    assert [e["at"] for e in timeline] == sorted((e["at"] for e in timeline), reverse=True)


async def test_moving_backward_needs_a_manager_and_a_reason(
    clients: dict[Role, httpx.AsyncClient], kafka_bootstrap: str
) -> None:
    officer, manager = clients[Role.OFFICER], clients[Role.MANAGER]
    manager_name = (await manager.get("/api/v1/me")).json()["id"]
    firm = await create_firm(officer, sector="chemicals", needs=["licensing"], owner=manager_name)
    assert (await move(officer, firm, "qualified")).status_code == 200

    forbidden = await move(officer, firm, "first_contact", reason="mistake")
    assert forbidden.status_code == 403
    assert "manager" in forbidden.json()["detail"]
    no_reason = await move(manager, firm, "first_contact")
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    back = await move(manager, firm, "first_contact", reason="needs were guessed")
    assert back.status_code == 200
    assert back.json()["stage"] == "first_contact"

    history = [
        e
        for e in (await officer.get(f"{BASE}/{firm['id']}/timeline")).json()["entries"]
        if e["kind"] == "stage_changed"
    ]
    assert history[0]["detail"]["reason"] == "needs were guessed"
    assert history[0]["actor"] == manager_name


async def test_status_rules_lost_needs_a_reason_and_dormant_wakes_up(
    clients: dict[Role, httpx.AsyncClient],
) -> None:
    officer = clients[Role.OFFICER]
    firm = await create_firm(officer)
    url = f"{BASE}/{firm['id']}/status"
    no_reason = await officer.post(url, json={"status": "lost"})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    lost = await officer.post(url, json={"status": "lost", "reason": "chose another district"})
    assert lost.status_code == 200
    assert (lost.json()["status"], lost.json()["status_reason"]) == (
        "lost",
        "chose another district",
    )
    closed = await move(officer, firm, "qualified")
    assert closed.status_code == 422
    assert closed.json()["errors"][0]["field"] == "status"

    assert (await officer.post(url, json={"status": "dormant"})).status_code == 200
    call = await officer.post(
        f"{BASE}/{firm['id']}/interactions",
        json={"kind": "call", "occurred_at": "2025-05-01T09:00:00Z", "summary": "checked in"},
    )
    assert call.status_code == 201
    assert (await officer.get(f"{BASE}/{firm['id']}")).json()["status"] == "active"

    stale = await officer.post(url, json={"status": "on_hold"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412


async def test_interactions_refuse_foreign_contacts_and_future_dates(
    clients: dict[Role, httpx.AsyncClient],
) -> None:
    officer = clients[Role.OFFICER]
    firm, other = await create_firm(officer), await create_firm(officer)
    response = await officer.post(
        f"{BASE}/{firm['id']}/interactions",
        json={
            "kind": "meeting",
            "occurred_at": "2999-01-01T00:00:00Z",
            "contact_ids": [other["contacts"][0]["id"]],
        },
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"occurred_at", "contact_ids.0"}
    naive = await officer.post(
        f"{BASE}/{firm['id']}/interactions",
        json={"kind": "lunch", "occurred_at": "2025-01-01T10:00:00"},
    )
    assert {e["field"] for e in naive.json()["errors"]} == {"kind", "occurred_at"}
