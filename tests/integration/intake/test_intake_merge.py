"""Merging duplicates: everything of both firms survives; the duplicate points to the survivor."""

from __future__ import annotations

import json

import httpx
import pytest

from crm_shared.auth.tokens import Role
from crm_shared.contracts.topics import LIFECYCLE
from support import TopicReader

from .conftest import BASE, create_firm

pytestmark = [pytest.mark.integration]


async def test_a_merge_keeps_everything_and_the_duplicate_redirects(
    clients: dict[Role, httpx.AsyncClient], kafka_bootstrap: str
) -> None:
    officer, manager = clients[Role.OFFICER], clients[Role.MANAGER]
    survivor = await create_firm(officer, notes="met at the Hannover fair")
    duplicate = await create_firm(officer, sector="machinery", needs=["talent"], notes="walk-in")
    call = await officer.post(
        f"{BASE}/{duplicate['id']}/interactions",
        json={"kind": "site_visit", "occurred_at": "2025-02-02T02:00:00Z", "summary": "plant"},
    )
    assert call.status_code == 201

    forbidden = await officer.post(
        f"{BASE}/{survivor['id']}/merge", json={"duplicate_id": duplicate["id"]}
    )
    assert forbidden.status_code == 403
    itself = await manager.post(
        f"{BASE}/{survivor['id']}/merge", json={"duplicate_id": survivor["id"]}
    )
    assert itself.status_code == 422
    merged = await manager.post(
        f"{BASE}/{survivor['id']}/merge", json={"duplicate_id": duplicate["id"]}
    )
    assert merged.status_code == 200, merged.text
    firm = merged.json()
    assert {c["id"] for c in firm["contacts"]} == {
        survivor["contacts"][0]["id"],
        duplicate["contacts"][0]["id"],
    }
    assert [c["is_primary"] for c in firm["contacts"]].count(True) == 1
    assert (firm["sector"], firm["needs"]) == ("machinery", ["talent"])
    assert "met at the Hannover fair" in firm["notes"]
    assert "walk-in" in firm["notes"]
    assert firm["interaction_kinds"] == ["site_visit"]
    assert firm["merged_ids"] == [duplicate["id"]]

    timeline = (await officer.get(f"{BASE}/{survivor['id']}/timeline")).json()["entries"]
    assert any(e["kind"] == "interaction" and e["title"] == "site_visit: plant" for e in timeline)
    assert sum(e["kind"] == "stage_changed" for e in timeline) == 2  # both firms' creation

    moved = await officer.get(f"{BASE}/{duplicate['id']}/timeline")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{BASE}/{survivor['id']}/timeline"
    assert moved.json()["survivor_id"] == survivor["id"]
    gone = await officer.patch(
        f"{BASE}/{duplicate['id']}", json={"sector": "x"}, headers={"If-Match": '"2"'}
    )
    assert gone.status_code == 410
    assert gone.json()["survivor_id"] == survivor["id"]
    again = await manager.post(
        f"{BASE}/{survivor['id']}/merge", json={"duplicate_id": duplicate["id"]}
    )
    assert again.status_code == 409
    listed = (await officer.get(BASE, params={"q": duplicate["name"].split()[1]})).json()["items"]
    assert listed == []

    async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as reader:

        def merges(records: list) -> list[dict]:
            events = [json.loads(r.value) for r in records if r.key == survivor["id"].encode()]
            return [e["data"] for e in events if e["type"] == "warmyang.enterprise.merged.v1"]

        await reader.read_until(lambda records: bool(merges(records)))
    [event] = merges(reader.records)
    assert (event["survivor_id"], event["merged_id"]) == (survivor["id"], duplicate["id"])
