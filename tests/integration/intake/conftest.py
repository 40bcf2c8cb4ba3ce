"""One intake app per test package, in process (httpx ASGI transport), on the real Kafka
and MongoDB of the session; staff users and tokens for each role."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from crm_intake.bootstrap import bootstrap
from crm_intake.service import staff
from crm_intake.service.context import IntakeContext
from crm_intake.settings import IntakeSettings
from crm_shared.auth.tokens import Role
from support import unique

ADMIN_TOKEN = "bootstrap-admin-token-for-intake-tests"
BASE = "/api/v1/enterprises"


def intake_settings(kafka_bootstrap: str, mongo_uri: str, **overrides: Any) -> IntakeSettings:
    values: dict[str, Any] = {
        "env": "test",
        "kafka_bootstrap_servers": kafka_bootstrap,
        "mongo_uri": mongo_uri,
        "intake_database": unique("t_intake").replace("-", "_"),
        "bootstrap_admin_token": ADMIN_TOKEN,
        "outbox_poll_seconds": 0.05,
        "consumer_retry_base_seconds": 0.05,
        "intake_dormant_after_days": 0,
        "log_json": False,
    }
    return IntakeSettings(_env_file=None, **{**values, **overrides})


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def intake_app(
    kafka_bootstrap: str, mongo_uri: str, kafka_topics: list[str]
) -> AsyncIterator[FastAPI]:
    app = bootstrap(intake_settings(kafka_bootstrap, mongo_uri))
    async with app.router.lifespan_context(app):
        yield app
        await app.state.intake.db.client.drop_database(app.state.intake.db.name)


@pytest.fixture(scope="package")
def ctx(intake_app: FastAPI) -> IntakeContext:
    return intake_app.state.intake


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def client(intake_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Calls the app as the bootstrap admin."""
    async with _client(intake_app, ADMIN_TOKEN) as http:
        yield http


def _client(app: FastAPI, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://intake.test", headers=headers
    )


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def staff_tokens(ctx: IntakeContext) -> dict[Role, str]:
    """A staff user and an API token for each role."""
    tokens = {}
    for role in Role:
        username = f"{role.value}.{uuid.uuid4().hex[:6]}"
        await staff.create_user(
            ctx,
            {"username": username, "role": role.value, "display_name": f"Test {role.value}",
             "password": "correct horse battery staple"},
        )  # fmt: skip
        tokens[role] = (await staff.issue_token(ctx, username)).token
    return tokens


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def clients(
    intake_app: FastAPI, staff_tokens: dict[Role, str]
) -> AsyncIterator[dict[Role, httpx.AsyncClient]]:
    opened = {role: _client(intake_app, token) for role, token in staff_tokens.items()}
    try:
        yield opened
    finally:
        for http in opened.values():
            await http.aclose()


@pytest.fixture
def anonymous(intake_app: FastAPI) -> httpx.AsyncClient:
    return _client(intake_app, None)


def firm_body(**overrides: Any) -> dict[str, Any]:
    """A first contact with a name and website no other test uses."""
    tag = uuid.uuid4().hex[:10]
    body: dict[str, Any] = {
        "name": f"Testwerk {tag} GmbH",
        "country": "DE",
        "source": "forum",
        "website": f"https://www.testwerk-{tag}.example.com",
        "primary_contact": {
            "full_name": f"Anna {tag.capitalize()}",
            "email": f"anna.{tag}@example.com",
            "phone": f"+49 30 {random.randint(20_000_000, 99_999_999)}",
            "language": "de",
            "timezone": "Europe/Berlin",
            "email_consent": True,
        },
    }
    body.update(overrides)
    return body


async def create_firm(http: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await http.post(BASE, json=firm_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()
