"""A German firm from first contact to established partnership, then its contact opts out and
is erased: through HTTP, Kafka, MongoDB and SMTP only, with every service running.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from crm_devstack import SmtpSink
from crm_shared.contracts import decode_event
from crm_shared.contracts.topics import FOLLOWUP, LIFECYCLE, NOTIFICATION
from support import TopicReader, wait_until

from .e2e_kit import (
    DistrictSubscriber,
    WebhookReceiver,
    addressed_to,
    credit_code,
    everything_consumed,
    find_everywhere,
    later,
    text_body,
    unique_email,
    unsubscribe_url,
)
from .stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

STAGES = ["qualified", "engaged", "negotiating", "landed", "established_partnership"]
OPEN = {"pending", "claimed"}


def _now(minus_minutes: int = 0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minus_minutes)).isoformat()


class Firm:
    """One firm through intake's API, remembering its version for If-Match."""

    def __init__(self, http: httpx.AsyncClient, document: dict[str, Any]) -> None:
        self.http = http
        self.id: str = document["id"]
        self.version: int = document["version"]

    def _track(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code < 300, response.text
        body = response.json()
        if "version" in body and body.get("id") == self.id:
            self.version = body["version"]
        return body

    async def refresh(self) -> dict[str, Any]:
        return self._track(await self.http.get(f"/api/v1/enterprises/{self.id}"))

    async def patch(self, changes: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.patch(
            f"/api/v1/enterprises/{self.id}",
            content=json.dumps(changes),
            headers={
                "If-Match": f'"{self.version}"',
                "Content-Type": "application/merge-patch+json",
            },
        )
        return self._track(response)

    async def move(self, stage: str) -> dict[str, Any]:
        response = await self.http.post(
            f"/api/v1/enterprises/{self.id}/transitions",
            json={"to_stage": stage},
            headers={"If-Match": f'"{self.version}"'},
        )
        return self._track(response)

    async def log(self, kind: str, contact_ids: list[str], summary: str) -> dict[str, Any]:
        response = await self.http.post(
            f"/api/v1/enterprises/{self.id}/interactions",
            json={
                "kind": kind,
                "occurred_at": _now(5),
                "summary": summary,
                "contact_ids": contact_ids,
            },
        )
        assert response.status_code == 201, response.text
        await self.refresh()  # logging an interaction moves the version on
        return response.json()

    async def timeline(self) -> list[dict[str, Any]]:
        response = await self.http.get(f"/api/v1/enterprises/{self.id}/timeline")
        assert response.status_code == 200, response.text
        return response.json()["entries"]


async def _mail(sink: SmtpSink, address: str, count: int, timeout: float = 60) -> list[Any]:
    return await sink.wait_for(addressed_to(address), count=count, timeout=timeout)


async def _followups(stack: Stack, firm_id: str) -> list[dict[str, Any]]:
    async with stack.client("followup") as http:
        response = await http.get("/api/v1/followups", params={"enterprise_id": firm_id})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_german_firm_from_first_contact_to_erasure(
    stack: Stack, smtp_sink: SmtpSink, staff: Any, kafka_bootstrap: str, mongo_uri: str
) -> None:
    receiver = WebhookReceiver()
    receiver.start()
    subscriber = DistrictSubscriber(kafka_bootstrap, f"e2e-district-{uuid.uuid4().hex[:8]}")
    address = unique_email("Katrin.Albrecht")
    try:
        # A district system subscribes by webhook too: the relay then keeps delivery bodies.
        async with stack.client("webhooks") as hooks:
            created = await hooks.post(
                "/api/v1/webhooks", json={"url": receiver.url, "event_types": ["*"]}
            )
            assert created.status_code == 201, created.text
        await subscriber.start(start="latest")

        async with stack.client("intake", staff.manager) as http:
            firm = await _first_contact(http, address)
            firm_id = firm.id
            german = (await firm.refresh())["contacts"][0]

            # 1. A German welcome email reaches the contact.
            [welcome] = await _mail(smtp_sink, address, 1)
            assert welcome["Content-Language"] == "de"
            assert str(welcome["Subject"]).startswith("Willkommen")
            assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

            # 2. Qualify, meet, and the thank-you arrives (next business day, made immediate).
            await firm.patch(
                {"sector": "Präzisionsmechanik", "needs": ["office_space", "talent"],
                 "owner": staff.manager_user}
            )  # fmt: skip
            await firm.move("qualified")
            await firm.log("meeting", [german["id"]], "Erstgespräch im Innovationszentrum")
            mails = await _mail(smtp_sink, address, 2)
            thanks = mails[1]
            assert thanks["Content-Language"] == "de"
            assert str(thanks["Subject"]).startswith("Vielen Dank")

            # 3. On through the lifecycle.
            await firm.move("engaged")
            await firm.patch(
                {"planned_investment": {"amount": "4500000.00", "currency": "EUR"},
                 "target_date": later(120)}
            )  # fmt: skip
            await firm.move("negotiating")
            await firm.patch({"credit_code": credit_code(4711), "landing_date": later(1)})
            await firm.move("landed")
            await firm.patch(
                {"partnerships": [{"partner_organisation": "Yangpu Werkstofflabor",
                                   "kind": "research"}],
                 "aftercare_owner": staff.officer_user}
            )  # fmt: skip
            final = await firm.move("established_partnership")
            assert final["stage"] == "established_partnership"

            # 4. The district subscriber saw every lifecycle event of the firm, in order.
            await _subscriber_saw_everything(subscriber, kafka_bootstrap, firm_id)

            # 5. The timeline shows stage changes, interactions and each email sent.
            await _timeline_complete(firm, smtp_sink, address)

            # 6. The contact unsubscribes with the one-click link of the last email.
            open_before = await _aftercare_planned(stack, firm_id, german["id"])
            link = unsubscribe_url(mails[-1])
            assert link in text_body(mails[-1])
            async with httpx.AsyncClient(timeout=30) as browser:
                asked = await browser.get(link)  # what a click shows: a question, in German
                assert asked.status_code == 200, asked.text
                assert 'lang="de"' in asked.text
                answer = await browser.post(
                    link,
                    content="List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            assert answer.status_code == 200, answer.text
            unsubscribed_at = len(smtp_sink.messages())
            await _consent_lost_everywhere(stack, firm, german["id"], open_before)

            # 7. Another meeting: its other participant is thanked, the unsubscribed one is not.
            colleague_address = unique_email("Lars.Hoffmann")
            colleague = await http.post(
                f"/api/v1/enterprises/{firm_id}/contacts",
                json={"full_name": "Lars Hoffmann", "email": colleague_address,
                      "language": "en", "timezone": "Europe/Berlin", "email_consent": True},
            )  # fmt: skip
            assert colleague.status_code == 201, colleague.text
            await firm.log(
                "site_visit", [german["id"], colleague.json()["id"]], "Besuch der Fertigung"
            )
            await _mail(smtp_sink, colleague_address, 1)  # the same event, processed
            after = smtp_sink.messages()[unsubscribed_at:]
            assert not [m for m in after if addressed_to(address)(m)], "mail after unsubscribe"

            # 8. The contact is erased, and no database of any service still holds the address.
            erased = await http.post(f"/api/v1/contacts/{german['id']}/erase")
            assert erased.status_code == 403, "erasure needs the admin role"
        async with stack.client("intake") as admin:
            erased = await admin.post(
                f"/api/v1/contacts/{german['id']}/erase", json={"reason": "Art. 17 request"}
            )
            assert erased.status_code == 200, erased.text
            assert erased.json()["email"] is None
        # contact.erased, and what it causes; not the requests topic (no email is asked for).
        await everything_consumed(
            kafka_bootstrap, topics=[LIFECYCLE.name, FOLLOWUP.name, NOTIFICATION.name]
        )
        leftovers = await find_everywhere(mongo_uri, f"e2e_{stack.suffix}_", address)
        assert leftovers == [], "the erased address is still stored:\n" + "\n".join(leftovers)
    finally:
        await subscriber.stop()
        receiver.stop()


async def _first_contact(http: httpx.AsyncClient, address: str) -> Firm:
    response = await http.post(
        "/api/v1/enterprises",
        json={
            "name": f"Albrecht Feinwerktechnik GmbH {uuid.uuid4().hex[:6]}",
            "country": "DE",
            "source": "forum",
            "website": "albrecht-feinwerk.example.com",
            "primary_contact": {
                "full_name": "Katrin Albrecht",
                "email": address,
                "phone": "+49 711 555 0142",
                "language": "de",
                "timezone": "Europe/Berlin",
                "country": "DE",
                "email_consent": True,
                "job_title": "Geschäftsführerin",
            },
        },
        headers={"Idempotency-Key": f"e2e-{uuid.uuid4()}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["stage"] == "first_contact"
    return Firm(http, response.json())


async def _subscriber_saw_everything(
    subscriber: DistrictSubscriber, bootstrap: str, firm_id: str
) -> None:
    async with TopicReader(bootstrap, LIFECYCLE.name) as topic:

        async def all_read() -> bool:
            await topic.poll()
            mine = [json.loads(r.value) for r in topic.records if r.key == firm_id.encode()]
            reached_the_end = any(
                e["data"].get("to_stage") == STAGES[-1] for e in mine
            )  # the last transition is published: nothing of this firm comes after it
            return reached_the_end and len(subscriber.events_of(firm_id)) >= len(mine)

        await wait_until(all_read, timeout=60)
        published = [
            decode_event(r.value, LIFECYCLE.name)
            for r in topic.records
            if r.key == firm_id.encode()
        ]
    seen = subscriber.events_of(firm_id)
    assert all(line.startswith("ok ") for line in seen), "\n".join(seen)
    assert [line.split(" id=")[1].split()[0] for line in seen] == [str(e.id) for e in published]
    moves = [
        (e.data.from_stage.value, e.data.to_stage.value)
        for e in published
        if e.type == "warmyang.enterprise.stage_changed.v1"
    ]
    assert moves == list(zip(["first_contact", *STAGES[:-1]], STAGES, strict=True))
    assert published[0].type == "warmyang.enterprise.created.v1"


async def _timeline_complete(firm: Firm, sink: SmtpSink, address: str) -> None:
    mine = [m for m in sink.messages() if addressed_to(address)(m)]
    message_ids = {str(m["Message-ID"]).strip() for m in mine}

    async def every_email_shown() -> bool:
        sent = [e for e in await firm.timeline() if e["kind"] == "notification.sent"]
        shown = {str(e["detail"].get("data", {}).get("message_id", "")).strip() for e in sent}
        return message_ids <= shown

    await wait_until(every_email_shown, timeout=60)
    entries = await firm.timeline()
    reached = {e["detail"].get("to_stage") for e in entries if e["kind"] == "stage_changed"}
    assert {"first_contact", *STAGES} <= reached
    assert any(e["kind"] == "interaction" and "meeting" in e["title"] for e in entries)
    assert any(e["kind"].startswith("followup.") for e in entries)


async def _aftercare_planned(stack: Stack, firm_id: str, contact_id: str) -> list[dict[str, Any]]:
    """The contact's open follow-ups, once follow-up has planned the aftercare check-ins."""

    async def planned() -> list[dict[str, Any]]:
        return [
            f
            for f in await _followups(stack, firm_id)
            if f["contact_id"] == contact_id and f["status"] in OPEN
        ]

    async def checkin_planned() -> bool:
        return any(f["rule"] == "aftercare_checkin" for f in await planned())

    await wait_until(checkin_planned, timeout=60)
    return await planned()


async def _consent_lost_everywhere(
    stack: Stack, firm: Firm, contact_id: str, open_before: list[dict[str, Any]]
) -> None:
    async def intake_knows() -> bool:
        contacts = (await firm.refresh())["contacts"]
        return not next(c for c in contacts if c["id"] == contact_id)["email_consent"]

    await wait_until(intake_knows, timeout=60)
    pending = {f["id"] for f in open_before}

    async def followup_cancelled() -> bool:
        mine = [f for f in await _followups(stack, firm.id) if f["id"] in pending]
        return all(f["status"] == "cancelled" for f in mine)

    await wait_until(followup_cancelled, timeout=60)
    reasons = {f["cancel_reason"] for f in await _followups(stack, firm.id) if f["id"] in pending}
    assert reasons <= {"unsubscribed", "opted_out"}, reasons
    entries = await firm.timeline()
    assert any(e["kind"] == "notification.unsubscribed" for e in entries)
