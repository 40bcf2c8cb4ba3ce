"""A person's export, and erasure that leaves none of their data anywhere in intake's database."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from bson import Binary

from crm_intake.service.context import IntakeContext
from crm_shared.auth.tokens import Role
from crm_shared.contracts.topics import LIFECYCLE
from crm_shared.mongo.outbox import Outbox
from support import TopicReader, wait_until

from .conftest import BASE, create_firm

pytestmark = [pytest.mark.integration]


def _text(value: Any) -> str:
    """Everything stored in a document, binary values (outbox events) decoded."""
    if isinstance(value, bytes | Binary):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return " ".join(f"{k} {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value)
    return str(value)


async def _where_found(ctx: IntakeContext, needles: list[str]) -> list[str]:
    found = []
    for name in await ctx.db.list_collection_names():
        async for document in ctx.db[name].find({}):
            text = _text(document).casefold()
            found += [f"{name}: {n}" for n in needles if n.casefold() in text]
    return found


async def test_export_then_erasure_leaves_no_personal_data(
    clients: dict[Role, httpx.AsyncClient], ctx: IntakeContext, kafka_bootstrap: str
) -> None:
    officer, manager, admin = clients[Role.OFFICER], clients[Role.MANAGER], clients[Role.ADMIN]
    firm = await create_firm(officer)
    person = firm["contacts"][0]
    colleague = await officer.post(
        f"{BASE}/{firm['id']}/contacts",
        json={"full_name": "Chen Jing", "email": "chen.jing@example.com", "is_primary": True},
    )
    assert colleague.status_code == 201
    personal = [person["full_name"], person["email"], person["phone"]]
    url = f"{BASE}/{firm['id']}"
    contact_url = f"{url}/contacts/{person['id']}"
    edited = await officer.patch(
        contact_url,
        json={"job_title": "Head of Expansion", "email_consent": False},
        headers={"If-Match": '"2"'},  # demoted from primary by the colleague: version 2
    )
    assert edited.status_code == 200, edited.text
    name = person["full_name"]
    meeting = await officer.post(
        f"{url}/interactions",
        json={
            "kind": "meeting",
            "occurred_at": "2025-04-01T08:00:00Z",
            "summary": f"Lunch with {name} ({person['email']}), call {person['phone']}",
            "contact_ids": [person["id"]],
        },
    )
    assert meeting.status_code == 201
    firm = (await officer.get(url)).json()
    noted = await officer.patch(
        url,
        json={"notes": f"ask {person['full_name'].upper()} about the lease"},
        headers={"If-Match": f'"{firm["version"]}"'},
    )
    assert noted.status_code == 200

    export = await manager.get(f"/api/v1/contacts/{person['id']}/export")
    assert export.status_code == 200
    data = export.json()
    assert data["contact"]["email"] == person["email"]
    assert data["contact"]["job_title"] == "Head of Expansion"
    assert [i["id"] for i in data["interactions"]] == [meeting.json()["id"]]
    assert {a["action"] for a in data["audit"]} >= {"created", "updated"}
    assert data["enterprise"]["id"] == firm["id"]
    assert (await officer.post(f"/api/v1/contacts/{person['id']}/erase")).status_code == 403

    async def published() -> bool:  # erase also rewrites events already sent
        events = await Outbox(ctx.db).events(key=firm["id"])
        return all(event["state"] != "pending" for event in events)

    await wait_until(published, timeout=30)
    assert await _where_found(ctx, personal)  # the scan does find them before
    erased = await admin.post(f"/api/v1/contacts/{person['id']}/erase", json={"reason": "DSR-17"})
    assert erased.status_code == 200, erased.text
    assert (erased.json()["full_name"], erased.json()["email"]) == ("[erased]", None)
    assert await _where_found(ctx, [*personal, "Head of Expansion"]) == []
    assert await _where_found(ctx, ["chen.jing@example.com"])  # the colleague is untouched

    timeline = (await officer.get(f"{url}/timeline")).json()["entries"]
    lunch = next(e for e in timeline if e["kind"] == "interaction")
    assert lunch["detail"]["summary"] == "Lunch with [erased] ([erased]), call [erased]"
    assert lunch["detail"]["contact_ids"] == [person["id"]]
    repeat = await admin.post(f"/api/v1/contacts/{person['id']}/erase")
    assert repeat.status_code == 200
    refused = await officer.patch(
        contact_url, json={"full_name": "Back Again"}, headers={"If-Match": '"4"'}
    )
    assert refused.status_code == 409

    async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as reader:

        def erasures(records: list) -> list[dict]:
            events = [json.loads(r.value) for r in records if r.key == firm["id"].encode()]
            return [e for e in events if e["type"] == "warmyang.contact.erased.v1"]

        await reader.read_until(lambda records: bool(erasures(records)))
    [event] = erasures(reader.records)
    assert event["data"]["contact_id"] == person["id"]
