"""Outside local development, webhooks go only to public https addresses: checked at
registration and again at send time (DNS may change in between)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pymongo.asynchronous.database import AsyncDatabase

from crm_shared.contracts import new_event
from crm_shared.contracts.lifecycle import EnterpriseCreated
from crm_shared.mongo.client import create_mongo_client
from crm_webhooks.adapters.deliveries import DeliveryRepository, delivery_document
from crm_webhooks.adapters.http_sender import HttpSender
from crm_webhooks.adapters.subscriptions import SubscriptionRepository
from crm_webhooks.bootstrap import bootstrap
from crm_webhooks.dispatcher import Dispatcher
from crm_webhooks.domain.retries import RetryPolicy
from crm_webhooks.domain.signing import new_secret
from crm_webhooks.domain.states import DeliveryStatus
from crm_webhooks.settings import WebhooksSettings
from support import unique

from .receiver import ADMIN_TOKEN, Receiver

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def production_app(kafka_bootstrap: str, mongo_uri: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = WebhooksSettings(
        _env_file=None,
        env="production",
        api_token_secret="a-real-secret-for-this-test-0123456789",
        bootstrap_admin_token=ADMIN_TOKEN,
        kafka_bootstrap_servers=kafka_bootstrap,
        mongo_uri=mongo_uri,
    )
    # Refusals happen before any storage: the app is exercised without starting its runtime.
    app = bootstrap(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://webhooks",
        headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
    ) as client:
        yield client
    await app.state.runtime.mongo.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.district.invalid/in", "must use https"),
        ("https://127.0.0.1:{port}/in", "127.0.0.1, a loopback or private address"),
        ("https://[::1]:{port}/in", "::1, a loopback or private address"),
        ("https://localhost:{port}/in", "localhost is this machine"),
        ("https://10.20.30.40/in", "10.20.30.40, a loopback or private address"),
        ("https://169.254.169.254/latest", "a loopback or private address"),
        ("https://user:pw@hooks.district.invalid/in", "may not carry credentials"),
    ],
)
async def test_production_refuses_at_registration(
    url: str, reason: str, kafka_bootstrap: str, mongo_uri: str, receiver: Receiver
) -> None:
    async with production_app(kafka_bootstrap, mongo_uri) as http:
        response = await http.post(
            "/api/v1/webhooks",
            json={"url": url.format(port=receiver.port), "event_types": ["*"]},
        )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "url"
    assert reason in problem["errors"][0]["message"]
    assert problem["type"].endswith("webhook-url-refused")


@pytest_asyncio.fixture
async def db(mongo_uri: str) -> AsyncIterator[AsyncDatabase]:
    client = create_mongo_client(mongo_uri, app_name="tests")
    name = unique("t_webhook_policy").replace("-", "_")
    yield client[name]
    await client.drop_database(name)
    await client.close()


async def send_one(db: AsyncDatabase, url: str, sender: HttpSender) -> dict[str, Any]:
    """Register `url` as stored (bypassing the API), queue one event, run one dispatch."""
    subscriptions, deliveries = SubscriptionRepository(db), DeliveryRepository(db)
    await deliveries.ensure_indexes()
    now = datetime.now(UTC)
    subscription = await subscriptions.add(
        url=url, event_types=["*"], description=None, secret=new_secret(), created_by="t", now=now
    )
    event = new_event(
        EnterpriseCreated(enterprise_id="e1", name="N", country="DE", source="forum"),
        service="intake",
        subject="e1",
    )
    await deliveries.collection.insert_one(
        delivery_document(
            subscription["_id"], event_id=str(event.id), event_type=event.type, subject="e1",
            body=event.to_json(), status=DeliveryStatus.PENDING, now=now,
        )
    )  # fmt: skip
    dispatcher = Dispatcher(
        deliveries, subscriptions, policy=RetryPolicy(), clock=lambda: datetime.now(UTC)
    )
    assert await dispatcher.dispatch_once(sender) == 1
    [delivery] = await deliveries.listed(subscription["_id"], status=None, before=None, limit=5)
    return delivery


async def test_send_time_check_refuses_what_production_may_not_call(
    db: AsyncDatabase, receiver: Receiver
) -> None:
    path = f"/ok/{unique('send-time')}"
    async with HttpSender(timeout_seconds=5, allow_local=True) as local:
        control = await send_one(db, receiver.url(path), local)
    assert control["status"] == "delivered"  # the receiver is there and answers
    assert len(receiver.received(path)) == 1

    async with HttpSender(timeout_seconds=5, allow_local=False) as production:
        refused = await send_one(db, f"https://127.0.0.1:{receiver.port}{path}", production)

    async def rebound(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]  # the name resolved to a public address when it was registered

    async with HttpSender(timeout_seconds=5, allow_local=False, resolver=rebound) as production:
        rebinding = await send_one(
            db, f"https://hooks.district.invalid:{receiver.port}{path}", production
        )

    for delivery in (refused, rebinding):
        assert delivery["status"] == "pending"  # a failed attempt, retried later
        [attempt] = delivery["log"]
        assert attempt["outcome"] == "failed"
        assert attempt["status_code"] is None
        assert attempt["error"].startswith("refused:")
        assert "127.0.0.1, a loopback or private address" in attempt["error"]
    assert len(receiver.received(path)) == 1  # nothing more reached the receiver
