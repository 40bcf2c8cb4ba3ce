"""Optimistic concurrency: If-Match is required, and of concurrent writers exactly one wins."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from crm_shared.auth.tokens import Role

from .conftest import BASE, create_firm

pytestmark = [pytest.mark.integration]


async def test_concurrent_updates_with_the_same_if_match_have_one_winner(
    clients: dict[Role, httpx.AsyncClient],
) -> None:
    officer = clients[Role.OFFICER]
    firm = await create_firm(officer)
    url, seen = f"{BASE}/{firm['id']}", f'"{firm["version"]}"'
    responses = await asyncio.gather(
        *(
            officer.patch(url, json={"sector": f"sector {n}"}, headers={"If-Match": seen})
            for n in range(8)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 7, [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    loser = next(r for r in responses if r.status_code == 412)
    assert loser.headers["content-type"] == "application/problem+json"
    assert loser.headers["ETag"] == '"2"'
    stored = (await officer.get(url)).json()
    assert (stored["version"], stored["sector"]) == (2, winner["sector"])


async def test_if_match_is_required_and_must_be_current(
    clients: dict[Role, httpx.AsyncClient],
) -> None:
    officer = clients[Role.OFFICER]
    firm = await create_firm(officer)
    url = f"{BASE}/{firm['id']}"
    missing = await officer.patch(url, json={"sector": "it"})
    assert missing.status_code == 428
    assert missing.json()["type"] == "urn:warmyang:problem:if-match-required"
    garbage = await officer.patch(url, json={"sector": "it"}, headers={"If-Match": "yesterday"})
    assert garbage.status_code == 422
    assert garbage.json()["errors"][0]["field"] == "If-Match"
    ok = await officer.patch(url, json={"sector": "it"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    stale = await officer.patch(url, json={"sector": "bio"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    unchanged = await officer.patch(url, json={"sector": "it"}, headers={"If-Match": '"2"'})
    assert unchanged.json()["version"] == 2  # nothing changed: no new version, no event

    contact = firm["contacts"][0]
    contact_url = f"{url}/contacts/{contact['id']}"
    assert (await officer.patch(contact_url, json={"job_title": "CEO"})).status_code == 428
    edited = await officer.patch(
        contact_url, json={"job_title": "CEO"}, headers={"If-Match": '"1"'}
    )
    assert edited.status_code == 200
    assert edited.json()["job_title"] == "CEO"
    again = await officer.patch(contact_url, json={"job_title": "CTO"}, headers={"If-Match": '"1"'})
    assert again.status_code == 412


async def test_a_patch_may_not_touch_the_lifecycle_or_break_fields(
    clients: dict[Role, httpx.AsyncClient],
) -> None:
    officer = clients[Role.OFFICER]
    firm = await create_firm(officer)
    response = await officer.patch(
        f"{BASE}/{firm['id']}",
        json={"stage": "landed", "country": "Atlantis", "name": None, "needs": ["gold"]},
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert "transitions" in response.json()["errors"][0]["message"]
    response = await officer.patch(
        f"{BASE}/{firm['id']}",
        json={"country": "Atlantis", "name": None, "needs": ["gold"], "colour": "red"},
        headers={"If-Match": '"1"'},
    )
    assert {e["field"] for e in response.json()["errors"]} == {
        "country",
        "name",
        "needs.0",
        "colour",
    }
