"""Who may call what: every endpoint × every role (and no token), checked server-side."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from crm_intake.service import staff
from crm_intake.service.context import IntakeContext
from crm_shared.auth.tokens import Role

from .conftest import BASE, create_firm, firm_body

pytestmark = [pytest.mark.integration]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {id} and {cid}: a firm and its contact made for the matrix
    least: Role
    body: Callable[[], Any] | None = None


def _contact() -> dict[str, Any]:
    return {"full_name": "Bo Li", "email": f"bo.{uuid.uuid4().hex[:8]}@example.com"}


ENDPOINTS = [
    Endpoint("POST", BASE, Role.OFFICER, firm_body),
    Endpoint("GET", BASE, Role.OFFICER),
    Endpoint("GET", BASE + "/{id}", Role.OFFICER),
    Endpoint("PATCH", BASE + "/{id}", Role.OFFICER, lambda: {"sector": "it"}),
    Endpoint("GET", BASE + "/{id}/duplicates", Role.OFFICER),
    Endpoint("GET", BASE + "/{id}/timeline", Role.OFFICER),
    Endpoint(
        "POST",
        BASE + "/{id}/interactions",
        Role.OFFICER,
        lambda: {"kind": "call", "occurred_at": "2025-01-02T03:04:05Z"},
    ),
    Endpoint("POST", BASE + "/{id}/transitions", Role.OFFICER, lambda: {"to_stage": "qualified"}),
    Endpoint("POST", BASE + "/{id}/status", Role.OFFICER, lambda: {"status": "on_hold"}),
    Endpoint("POST", BASE + "/{id}/merge", Role.MANAGER, lambda: {"duplicate_id": "ent_missing"}),
    Endpoint("POST", BASE + "/{id}/contacts", Role.OFFICER, _contact),
    Endpoint("PATCH", BASE + "/{id}/contacts/{cid}", Role.OFFICER, lambda: {"job_title": "CFO"}),
    Endpoint("GET", "/api/v1/contacts/{cid}/export", Role.MANAGER),
    Endpoint("POST", "/api/v1/contacts/con_missing/erase", Role.ADMIN, lambda: {}),
    Endpoint("GET", "/api/v1/me", Role.OFFICER),
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def target(client: httpx.AsyncClient) -> dict[str, str]:
    firm = await create_firm(client)
    return {"id": firm["id"], "cid": firm["contacts"][0]["id"]}


@pytest.mark.parametrize("role", [None, *Role], ids=lambda r: r.value if r else "no-token")
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
async def test_the_role_matrix(
    endpoint: Endpoint,
    role: Role | None,
    clients: dict[Role, httpx.AsyncClient],
    anonymous: httpx.AsyncClient,
    target: dict[str, str],
) -> None:
    http = clients[role] if role else anonymous
    response = await http.request(
        endpoint.method,
        endpoint.path.format(**target),
        json=endpoint.body() if endpoint.body else None,
    )
    if role is None:
        expected = 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
    elif not role.at_least(endpoint.least):
        expected = 403
    else:
        assert response.status_code not in (401, 403), response.text
        return
    assert response.status_code == expected, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_operations_endpoints_need_no_token(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/healthz")).status_code == 200
    assert (await anonymous.get("/metrics")).status_code == 200


async def test_a_revoked_or_forged_token_is_refused(
    ctx: IntakeContext, anonymous: httpx.AsyncClient, staff_tokens: dict[Role, str]
) -> None:
    user = f"short.{uuid.uuid4().hex[:6]}"
    await staff.create_user(
        ctx, {"username": user, "role": "manager", "display_name": "Temp", "password": "x" * 12}
    )
    issued = await staff.issue_token(ctx, user, role=Role.OFFICER)
    headers = {"Authorization": f"Bearer {issued.token}"}
    me = await anonymous.get("/api/v1/me", headers=headers)
    assert me.json() == {"id": user, "role": "officer"}
    assert (await anonymous.post(f"{BASE}/x/merge", json={}, headers=headers)).status_code == 403

    await staff.revoke_token(ctx, issued.token_id)
    assert (await anonymous.get("/api/v1/me", headers=headers)).status_code == 401
    forged = staff_tokens[Role.OFFICER].replace(".officer.", ".admin.")
    assert (
        await anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    ).status_code == 401

    second = await staff.issue_token(ctx, user)
    await staff.deactivate_user(ctx, user)
    refused = await anonymous.get("/api/v1/me", headers={"Authorization": f"Bearer {second.token}"})
    assert refused.status_code == 401
