"""Logging a first contact through the API: event, idempotency, duplicates, bad input, listing."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from crm_shared.contracts.topics import LIFECYCLE
from support import TopicReader

from .conftest import BASE, create_firm, firm_body

pytestmark = [pytest.mark.integration]


def _events(reader: TopicReader, enterprise_id: str) -> list[dict]:
    return [json.loads(r.value) for r in reader.records if r.key == enterprise_id.encode()]


async def test_a_first_contact_is_stored_and_announced_on_the_lifecycle_topic(
    client: httpx.AsyncClient, kafka_bootstrap: str
) -> None:
    body = firm_body(sector="automotive", needs=["office_space"])
    response = await client.post(BASE, json=body)
    assert response.status_code == 201, response.text
    firm = response.json()
    assert response.headers["Location"] == f"{BASE}/{firm['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (firm["stage"], firm["status"], firm["version"]) == ("first_contact", "active", 1)
    [contact] = firm["contacts"]
    assert contact["phone"] == body["primary_contact"]["phone"].replace(" ", "")
    assert contact["is_primary"]

    async with TopicReader(kafka_bootstrap, LIFECYCLE.name) as reader:
        await reader.read_until(lambda _: len(_events(reader, firm["id"])) >= 2)
    created, added = _events(reader, firm["id"])
    assert created["type"] == "warmyang.enterprise.created.v1"
    assert created["subject"] == firm["id"]
    assert created["data"]["name"] == body["name"]
    assert created["data"]["primary_contact_id"] == contact["id"]
    assert created["data"]["actor"] == "bootstrap-admin"
    assert added["type"] == "warmyang.contact.added.v1"
    assert added["data"]["email"] == body["primary_contact"]["email"]
    assert added["data"]["timezone"] == "Europe/Berlin"

    fetched = await client.get(f"{BASE}/{firm['id']}")
    assert fetched.json() == firm


async def test_an_idempotency_key_answers_repeats_with_the_first_result(
    client: httpx.AsyncClient,
) -> None:
    body, key = firm_body(), uuid.uuid4().hex
    first, second, third = await asyncio.gather(
        *(client.post(BASE, json=body, headers={"Idempotency-Key": key}) for _ in range(3))
    )
    assert {first.status_code, second.status_code, third.status_code} == {201}
    assert first.json()["id"] == second.json()["id"] == third.json()["id"]
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in (first, second, third)) == 2
    listed = await client.get(BASE, params={"q": body["name"].split()[1]})
    assert [item["id"] for item in listed.json()["items"]] == [first.json()["id"]]

    reused = await client.post(
        BASE, json={**body, "sector": "chemicals"}, headers={"Idempotency-Key": key}
    )
    assert reused.status_code == 409
    assert "different request" in reused.json()["detail"]


@pytest.mark.parametrize(
    "spelling",
    [
        {"name": "{stem} AG"},
        {"name": "{stem} Co., Ltd."},
        {"name": "Other name", "website": "http://{domain}/about"},
        {"name": "Other name", "credit_code": "91110000802100433B"},
    ],
    ids=["legal form", "co ltd", "website", "credit code"],
)
async def test_a_likely_duplicate_gets_409_with_candidates(
    client: httpx.AsyncClient, spelling: dict[str, str]
) -> None:
    stem = f"Dupl{uuid.uuid4().hex[:8]} Müller"
    domain = f"dup-{uuid.uuid4().hex[:8]}.example.com"
    code_owner_needed = "credit_code" in spelling
    original = await create_firm(
        client,
        name=f"{stem} GmbH",
        website=f"https://www.{domain}",
        **({"credit_code": "91110000802100433B"} if code_owner_needed else {}),
    )
    again = firm_body(
        **{k: v.format(stem=stem.replace("ü", "ue"), domain=domain) for k, v in spelling.items()}
    )
    if "website" not in spelling:
        again.pop("website")
    response = await client.post(BASE, json=again)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:warmyang:problem:duplicate"
    assert original["id"] in [c["id"] for c in problem["candidates"]]

    allowed = await client.post(BASE, params={"allow_duplicate": "true"}, json=again)
    assert allowed.status_code == 201
    duplicates = await client.get(f"{BASE}/{allowed.json()['id']}/duplicates")
    assert original["id"] in [c["id"] for c in duplicates.json()["candidates"]]
    if code_owner_needed:  # the credit code of one firm must not stay with two
        await client.post(
            f"{BASE}/{original['id']}/merge", json={"duplicate_id": allowed.json()["id"]}
        )


async def test_bad_input_names_each_field(client: httpx.AsyncClient) -> None:
    body = firm_body(
        name="",
        country="Germany",
        source="newspaper",
        credit_code="91350100M000100Y44",
        website="no site",
    )
    body["primary_contact"].update(email="anna@", phone="123", timezone="Berlin", language="fr")
    response = await client.post(BASE, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert set(fields) == {
        "name",
        "country",
        "source",
        "credit_code",
        "website",
        "primary_contact.email",
        "primary_contact.phone",
        "primary_contact.timezone",
        "primary_contact.language",
    }
    assert "should be 3" in fields["credit_code"]
    assert "ISO 3166-1" in fields["country"]
    assert "IANA" in fields["primary_contact.timezone"]

    unreachable = firm_body()
    unreachable["primary_contact"] = {"full_name": "Nobody"}
    response = await client.post(BASE, json=unreachable)
    assert [e["field"] for e in response.json()["errors"]] == ["primary_contact"]

    unknown_owner = await client.post(BASE, json=firm_body(owner="no.such.user"))
    assert unknown_owner.status_code == 422
    assert unknown_owner.json()["errors"][0]["field"] == "owner"


async def test_listing_filters_and_pages_with_a_cursor(client: httpx.AsyncClient) -> None:
    sector = f"sector-{uuid.uuid4().hex[:8]}"
    made = [
        await create_firm(client, sector=sector, country=country)
        for country in ("DE", "DE", "AT", "DE", "CH")
    ]
    german = [f["id"] for f in made if f["country"] == "DE"]
    seen, cursor = [], None
    while True:
        params = {"sector": sector.upper(), "country": "de", "limit": 2}
        page = await client.get(BASE, params={**params, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(german))  # newest first

    by_name = await client.get(BASE, params={"q": made[2]["name"].split()[1][:6]})
    assert [i["id"] for i in by_name.json()["items"]] == [made[2]["id"]]
    by_stage = await client.get(BASE, params={"sector": sector, "stage": "qualified"})
    assert by_stage.json()["items"] == []

    bad = await client.get(BASE, params={"cursor": "garbage!", "stage": "nowhere"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"query.stage"}
    bad_cursor = await client.get(BASE, params={"cursor": "garbage"})
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["errors"][0]["field"] == "cursor"


async def test_a_new_subscriber_reads_a_snapshot_of_firms_changed_since(
    client: httpx.AsyncClient,
) -> None:
    first = await create_firm(client)
    since = first["updated_at"]
    later = [await create_firm(client) for _ in range(3)]
    collected, cursor = [], None
    while True:
        params = {"updated_since": since, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(BASE, params=params)).json()
        collected += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [item["id"] for item in collected] == [first["id"], *(f["id"] for f in later)]
    stamps = [item["updated_at"] for item in collected]
    assert stamps == sorted(stamps)
