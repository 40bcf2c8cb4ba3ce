"""The webhook relay as a process: signed deliveries to a real receiver, retries, filters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm_shared.contracts import CloudEvent, EventData, new_event
from crm_shared.contracts.lifecycle import (
    ContactAdded,
    ContactConsentChanged,
    EnterpriseCreated,
    EnterpriseStageChanged,
    EnterpriseStatusChanged,
)
from support import unique, wait_until

from .receiver import FAILURES_BEFORE_SUCCESS, Received, Receiver, WebhookService

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]

Publish = Callable[[CloudEvent[Any]], Awaitable[None]]
ASYNCAPI = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"


def journey(firm: str) -> list[CloudEvent[Any]]:
    steps: list[EventData] = [
        EnterpriseCreated(enterprise_id=firm, name="Lindqvist Sensorik AG", country="DE",
                          source="event"),
        ContactAdded(enterprise_id=firm, contact_id=f"{firm}-c1", full_name="Ola Lindqvist",
                     email="ola@example.com"),
        EnterpriseStageChanged(enterprise_id=firm, from_stage="first_contact",
                               to_stage="qualified"),
        ContactConsentChanged(enterprise_id=firm, contact_id=f"{firm}-c1", email_consent=True),
        EnterpriseStatusChanged(enterprise_id=firm, from_status="active", to_status="on_hold"),
    ]  # fmt: skip
    return [new_event(step, service="intake", subject=firm) for step in steps]


def verified(request: Received, secret: str) -> bool:
    """Standard Webhooks verification, written from the scheme (no project code)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
    digest = hmac.new(key, signed + request.body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    given = request.headers["webhook-signature"].split()
    return any(hmac.compare_digest(expected, g) for g in given)


async def subscribe(http: httpx.AsyncClient, url: str, event_types: list[str]) -> dict[str, Any]:
    response = await http.post("/api/v1/webhooks", json={"url": url, "event_types": event_types})
    assert response.status_code == 201, response.text
    return response.json()


async def deliveries(http: httpx.AsyncClient, subscription_id: str) -> list[dict[str, Any]]:
    response = await http.get(f"/api/v1/webhooks/{subscription_id}/deliveries?limit=500")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def of(firm: str, requests: list[Received]) -> list[Received]:
    return [r for r in requests if json.loads(r.body)["subject"] == firm]


async def test_events_arrive_signed_and_filtered(
    webhook_service: WebhookService, receiver: Receiver, publish: Publish
) -> None:
    firm = unique("hook-firm")
    everything, contacts = f"/ok/{firm}/all", f"/ok/{firm}/contacts"
    async with webhook_service.client() as http:
        all_sub = await subscribe(http, receiver.url(everything), ["*"])
        contact_sub = await subscribe(http, receiver.url(contacts), ["contact.*"])
        assert all_sub["secret"].startswith("whsec_")
        assert all_sub["event_types"] == ["*"]
        # The secret is shown once: never in a read or a listing.
        read = (await http.get(f"/api/v1/webhooks/{all_sub['id']}")).json()
        listing = (await http.get("/api/v1/webhooks")).text
        assert "secret" not in read
        assert all_sub["secret"] not in listing

        events = journey(firm)
        for event in events:
            await publish(event)

        async def all_arrived() -> bool:
            return len(of(firm, receiver.received(everything))) >= len(events)

        await wait_until(all_arrived, timeout=60)
        # Deliveries are recorded per event before any is sent: the filter's are settled too.
        expected_contact = [str(e.id) for e in events if e.type.startswith("warmyang.contact.")]

        async def contact_events_arrived() -> bool:
            return len(of(firm, receiver.received(contacts))) >= len(expected_contact)

        await wait_until(contact_events_arrived, timeout=30)
        recorded = await deliveries(http, contact_sub["id"])

    for request in of(firm, receiver.received(everything)):
        assert verified(request, all_sub["secret"]), request.headers
        assert not verified(request, contact_sub["secret"])
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 300
        assert request.headers["content-type"] == "application/cloudevents+json; charset=utf-8"
        body = json.loads(request.body)
        assert request.headers["webhook-id"] == body["id"]
        published = next(e for e in events if str(e.id) == body["id"])
        assert body == json.loads(published.to_json())  # the structured CloudEvent, unchanged
    assert {json.loads(r.body)["id"] for r in of(firm, receiver.received(everything))} == {
        str(e.id) for e in events
    }
    got = [json.loads(r.body) for r in of(firm, receiver.received(contacts))]
    assert sorted(e["id"] for e in got) == sorted(expected_contact)
    assert all(e["type"].startswith("warmyang.contact.") for e in got)
    assert all(verified(r, contact_sub["secret"]) for r in receiver.received(contacts))
    # Not only not received: never recorded for that subscription.
    assert not [d for d in recorded if not d["event_type"].startswith("warmyang.contact.")]


async def test_a_receiver_failing_twice_gets_each_event_accepted_once(
    webhook_service: WebhookService, receiver: Receiver, publish: Publish
) -> None:
    firm = unique("hook-flaky")
    path = f"/flaky/{firm}"
    events = [e for e in journey(firm) if e.type.startswith("warmyang.enterprise.")]
    async with webhook_service.client() as http:
        subscription = await subscribe(http, receiver.url(path), ["enterprise.*"])
        for event in events:
            await publish(event)

        async def all_delivered() -> bool:
            mine = [d for d in await deliveries(http, subscription["id"]) if d["subject"] == firm]
            return len(mine) == len(events) and all(d["status"] == "delivered" for d in mine)

        await wait_until(all_delivered, timeout=60)
        recorded = [d for d in await deliveries(http, subscription["id"]) if d["subject"] == firm]
        health = (await http.get(f"/api/v1/webhooks/{subscription['id']}")).json()

    requests = of(firm, receiver.received(path))
    accepted = [json.loads(r.body)["id"] for r in requests if r.status == 200]
    assert sorted(accepted) == sorted(str(e.id) for e in events)  # exactly once each
    assert len(requests) == len(events) * (FAILURES_BEFORE_SUCCESS + 1)
    assert all(verified(r, subscription["secret"]) for r in requests)
    for delivery in recorded:
        assert delivery["attempts"] == FAILURES_BEFORE_SUCCESS + 1
        assert [(a["status_code"], a["outcome"]) for a in delivery["log"]] == [
            (500, "failed"),
            (500, "failed"),
            (200, "accepted"),
        ]
    assert health["status"] == "active"
    assert health["consecutive_failures"] == 0


async def test_a_dead_receiver_is_disabled_then_enabled_and_deleted(
    webhook_service: WebhookService, receiver: Receiver, publish: Publish
) -> None:
    firm = unique("hook-down")
    path = f"/down/{firm}"
    events = [e for e in journey(firm) if e.type.startswith("warmyang.enterprise.")]
    async with webhook_service.client() as http:
        subscription = await subscribe(http, receiver.url(path), ["enterprise.*"])
        url = f"/api/v1/webhooks/{subscription['id']}"
        for event in events:
            await publish(event)

        async def disabled() -> bool:
            return (await http.get(url)).json()["status"] == "disabled"

        await wait_until(disabled, timeout=60)
        state = (await http.get(url)).json()
        assert "consecutive failed attempts" in state["disabled_reason"]
        assert "503" in state["disabled_reason"]

        async def settled() -> bool:  # what was in flight is recorded, the rest is paused
            mine = await deliveries(http, subscription["id"])
            return len(mine) == len(events) and all(
                d["status"] in ("paused", "failed") for d in mine
            )

        await wait_until(settled, timeout=30)
        sent_while_disabled = len(receiver.received(path))
        enabled = await http.post(f"{url}/enable")
        assert enabled.status_code == 200
        assert enabled.json()["status"] == "active"

        async def resumed() -> bool:
            return len(receiver.received(path)) > sent_while_disabled

        await wait_until(resumed, timeout=30)
        assert (await http.delete(url)).status_code == 204
        assert (await http.get(url)).status_code == 404
        listing = (await http.get("/api/v1/webhooks")).json()["items"]
        assert subscription["id"] not in [s["id"] for s in listing]
        assert (await http.get(f"{url}/deliveries")).status_code == 404


async def test_the_api_needs_an_admin_and_checks_its_input(
    webhook_service: WebhookService, receiver: Receiver
) -> None:
    async with httpx.AsyncClient(base_url=webhook_service.base, timeout=10) as anonymous:
        assert (await anonymous.get("/api/v1/webhooks")).status_code == 401
    async with webhook_service.client() as http:
        bad_filter = await http.post(
            "/api/v1/webhooks", json={"url": receiver.url("/ok/x"), "event_types": ["contacts"]}
        )
        assert bad_filter.status_code == 422
        assert bad_filter.json()["errors"][0]["field"] == "event_types"
        internal = await http.post(
            "/api/v1/webhooks",
            json={"url": receiver.url("/ok/x"), "event_types": ["notification.requested"]},
        )
        assert internal.status_code == 422  # internal requests (with addresses) are not relayed
        assert (await http.get("/api/v1/webhooks/wh_nothing")).status_code == 404


async def test_the_service_serves_the_committed_contract(webhook_service: WebhookService) -> None:
    async with httpx.AsyncClient(base_url=webhook_service.base, timeout=10) as http:
        asyncapi = await http.get("/asyncapi.json")
        schema = await http.get("/schemas/warmyang.contact.erased.v1.json")
    assert asyncapi.text == ASYNCAPI.read_text()
    assert schema.json()["title"] == "warmyang.contact.erased.v1"
