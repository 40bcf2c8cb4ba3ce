"""Who may do what, from outside: every documented endpoint of every service, CSRF on the
staff forms, unsubscribe links that are forged or expired, webhook targets in production."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from itsdangerous import URLSafeTimedSerializer

from crm_devstack import SmtpSink
from crm_shared.contracts.topics import NOTIFICATION

from .e2e_kit import addressed_to, everything_consumed, unique_email, unsubscribe_url
from .stack import SERVICES, UNSUBSCRIBE_SECRET, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# Open by design: liveness, readiness, metrics, the public event contract, API docs, and the
# unsubscribe page (its signed token is the authority).
PUBLIC = re.compile(
    r"^/(healthz|readyz|metrics|asyncapi\.json|schemas(/.*)?|docs|redoc|openapi\.json"
    r"|unsubscribe/\{[^}]+\})$"
)
# What needs more than an officer (read from SPEC §5 and the services' routes).
NEEDS_MANAGER = {
    ("intake", "post", "/api/v1/enterprises/{enterprise_id}/merge"),
    ("intake", "get", "/api/v1/contacts/{contact_id}/export"),
}
NEEDS_ADMIN = {("intake", "post", "/api/v1/contacts/{contact_id}/erase")}
ADMIN_PREFIXES = {"webhooks": "/api/v1/webhooks"}


async def _operations(stack: Stack, service: str) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=stack.url(service), timeout=30) as http:
        document = (await http.get("/openapi.json")).json()
    return [
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "e2e-no-such-id", path)


def _required_role(service: str, method: str, path: str) -> str:
    if (service, method, path) in NEEDS_ADMIN:
        return "admin"
    if path.startswith(ADMIN_PREFIXES.get(service, "\0")):
        return "admin"
    if (service, method, path) in NEEDS_MANAGER:
        return "manager"
    return "officer"


async def test_every_endpoint_wants_a_token_and_the_right_role(stack: Stack, staff: Any) -> None:
    wrong: list[str] = []
    checked = 0
    for service in SERVICES:
        operations = await _operations(stack, service)
        assert operations, f"{service} documents no endpoint"
        async with httpx.AsyncClient(base_url=stack.url(service), timeout=30) as http:
            for method, path in operations:
                url = _concrete(path)
                anonymous = await http.request(method, url)
                if PUBLIC.match(path):
                    if anonymous.status_code in (401, 403):
                        wrong.append(f"{service} {method} {path}: public, got {anonymous}")
                    continue
                checked += 1
                if anonymous.status_code != 401:
                    wrong.append(f"{service} {method.upper()} {path} without token: {anonymous}")
                forged = await http.request(
                    method, url, headers={"Authorization": "Bearer wy1.x.admin.0.forged"}
                )
                if forged.status_code != 401:
                    wrong.append(f"{service} {method.upper()} {path} forged token: {forged}")
                needed = _required_role(service, method, path)
                for role, token in (("officer", staff.officer), ("manager", staff.manager)):
                    answer = await http.request(
                        method, url, headers={"Authorization": f"Bearer {token}"}
                    )
                    allowed = needed == "officer" or (needed == "manager" and role == "manager")
                    if allowed and answer.status_code in (401, 403):
                        wrong.append(f"{service} {method.upper()} {path} as {role}: {answer}")
                    if not allowed and answer.status_code != 403:
                        wrong.append(f"{service} {method.upper()} {path} as {role}: {answer}")
    assert checked >= 20, f"only {checked} protected endpoints found"
    assert not wrong, "\n".join(wrong)


async def test_staff_forms_refuse_a_missing_or_wrong_csrf_token(stack: Stack, staff: Any) -> None:
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as browser:
        no_token = await browser.post(
            "/ui/sign-in", data={"username": staff.officer_user, "password": staff.password}
        )
        assert no_token.status_code == 403, no_token.text[:300]

        page = await browser.get("/ui/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        signed_in = await browser.post(
            "/ui/sign-in",
            data={"username": staff.officer_user, "password": staff.password,
                  "csrf_token": token.group(1)},
        )  # fmt: skip
        assert signed_in.status_code == 303, signed_in.text[:300]
        form = {"name": "Formular Ohne Token GmbH", "country": "DE", "source": "walk_in"}
        assert (await browser.post("/ui/firms/new", data=form)).status_code == 403
        wrong = {**form, "csrf_token": "not-the-session-token"}
        assert (await browser.post("/ui/firms/new", data=wrong)).status_code == 403

        # A signed-in browser may call the JSON API, but a write needs the CSRF header.
        body = {
            "name": f"Sitzung Ohne Header GmbH {uuid.uuid4().hex[:6]}",
            "country": "DE",
            "source": "walk_in",
            "primary_contact": {"full_name": "Ida Ohnetoken", "email": "ida@example.com"},
        }
        assert (await browser.post("/api/v1/enterprises", json=body)).status_code == 401
        assert (await browser.get("/api/v1/me")).status_code == 200  # reads need no header


async def _firm_with_email(stack: Stack, sink: SmtpSink) -> tuple[str, str, Any]:
    address = unique_email("Uwe.Abmelder")
    async with stack.client("intake") as http:
        created = await http.post(
            "/api/v1/enterprises",
            json={"name": f"Abmelder Werkzeuge GmbH {uuid.uuid4().hex[:6]}", "country": "DE",
                  "source": "referral",
                  "primary_contact": {"full_name": "Uwe Abmelder", "email": address,
                                      "language": "de", "email_consent": True}},
        )  # fmt: skip
        assert created.status_code == 201, created.text
    [welcome] = await sink.wait_for(addressed_to(address), timeout=60)
    return created.json()["id"], created.json()["contacts"][0]["id"], welcome


def _expired_token(notification_id: str) -> str:
    """An authentic link, signed 200 days ago (the default lifetime is 180 days)."""

    class Backdated(URLSafeTimedSerializer):
        def __init__(self) -> None:
            super().__init__(UNSUBSCRIBE_SECRET, salt="warmyang.unsubscribe.v1")

        def make_signer(self, salt: Any = None) -> Any:
            signer = super().make_signer(salt)
            signer.get_timestamp = lambda: int(time.time()) - 200 * 86400  # type: ignore[method-assign]
            return signer

    return Backdated().dumps(notification_id)


async def test_forged_and_expired_unsubscribe_links_are_refused(
    stack: Stack, smtp_sink: SmtpSink
) -> None:
    firm_id, contact_id, welcome = await _firm_with_email(stack, smtp_sink)
    genuine = unsubscribe_url(welcome)
    base, token = genuine.rsplit("/", 1)
    _, notification_id = URLSafeTimedSerializer("unused").loads_unsafe(token)
    assert isinstance(notification_id, str)
    forgeries = {
        "random": "not-a-token",
        "tampered": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "other key": URLSafeTimedSerializer(
            "someone-elses-secret-0123456789", salt="warmyang.unsubscribe.v1"
        ).dumps(notification_id),
    }
    async with httpx.AsyncClient(timeout=30) as browser:
        for what, forged in forgeries.items():
            answer = await browser.post(f"{base}/{forged}", content="List-Unsubscribe=One-Click")
            assert answer.status_code == 404, f"{what}: {answer.status_code}"
        expired = await browser.post(f"{base}/{_expired_token(notification_id)}")
        assert expired.status_code == 410, expired.text[:300]
        # The page a real link shows still works: only the refusals above were refused.
        assert (await browser.get(genuine)).status_code == 200
    # Any unsubscribe event that slipped through has reached intake by now.
    await everything_consumed(stack.kafka_bootstrap, topics=[NOTIFICATION.name])
    async with stack.client("intake") as http:
        firm = (await http.get(f"/api/v1/enterprises/{firm_id}")).json()
    contact = next(c for c in firm["contacts"] if c["id"] == contact_id)
    assert contact["email_consent"] is True, "a refused link must not unsubscribe"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://user:secret@example.com/hook",
    ],
)
async def test_production_webhooks_refuse_local_and_private_targets(
    stack: Stack, production_webhooks: str, url: str
) -> None:
    async with httpx.AsyncClient(
        base_url=production_webhooks,
        headers={"Authorization": f"Bearer {stack.admin_token}"},
        timeout=30,
    ) as http:
        answer = await http.post("/api/v1/webhooks", json={"url": url, "event_types": ["*"]})
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "url"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def production_webhooks(stack: Stack) -> AsyncIterator[str]:
    """A replica of the webhook relay (same database and group) started with CRM_ENV=production."""
    replica = stack.add_replica("webhooks")
    replica.env["CRM_ENV"] = "production"
    replica.start()
    try:
        await replica.wait_ready()
        yield replica.url
    finally:
        await asyncio.to_thread(replica.stop)
