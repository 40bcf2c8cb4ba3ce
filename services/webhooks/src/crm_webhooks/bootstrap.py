"""Wires the webhook relay: repositories, the Kafka consumers, the sender job, the API."""

import asyncio
from datetime import timedelta

from fastapi import FastAPI

from crm_shared.auth.tokens import Role
from crm_shared.contracts import events_on
from crm_shared.runtime import Runtime, create_service_app
from crm_webhooks.adapters.deliveries import DeliveryRepository
from crm_webhooks.adapters.http_sender import HttpSender
from crm_webhooks.adapters.subscriptions import SubscriptionRepository
from crm_webhooks.dispatcher import Dispatcher
from crm_webhooks.domain.retries import RetryPolicy
from crm_webhooks.entrypoints.consumers import register_consumers
from crm_webhooks.entrypoints.http.webhooks import webhooks_router
from crm_webhooks.settings import SERVICE, WebhooksSettings

# A sender that stops renewing nothing for this long past its timeout is presumed dead.
LEASE_MARGIN = timedelta(seconds=30)


def bootstrap(settings: WebhooksSettings) -> FastAPI:
    # The relay emits no events of its own: no outbox to relay.
    runtime = Runtime(
        settings, service=SERVICE, database=settings.webhooks_database, run_relay=False
    )
    subscriptions = SubscriptionRepository(runtime.db)
    deliveries = DeliveryRepository(runtime.db)
    runtime.on_startup(subscriptions.ensure_indexes)
    runtime.on_startup(deliveries.ensure_indexes)
    register_consumers(runtime, settings.relayed_topics, subscriptions, deliveries)

    dispatcher = Dispatcher(
        deliveries,
        subscriptions,
        policy=RetryPolicy(
            base_seconds=settings.webhooks_retry_base_seconds,
            max_seconds=settings.webhooks_retry_max_seconds,
            max_attempts=settings.webhooks_max_attempts,
            disable_after_failures=settings.webhooks_disable_after_failures,
        ),
        clock=runtime.clock,
        batch_size=settings.webhooks_batch_size,
        concurrency=settings.webhooks_concurrency,
        lease=timedelta(seconds=settings.webhooks_timeout_seconds) + LEASE_MARGIN,
        poll_seconds=settings.webhooks_poll_seconds,
    )

    async def send_deliveries(stop: asyncio.Event) -> None:
        async with HttpSender(
            timeout_seconds=settings.webhooks_timeout_seconds,
            allow_local=settings.allow_local_targets,
        ) as sender:
            await dispatcher.run(sender, stop)

    runtime.background("webhook-dispatcher", send_deliveries)

    app = create_service_app(
        runtime,
        title="Warm Yang CRM — webhooks",
        description="Signed webhooks for district systems that cannot read Kafka.",
    )
    app.include_router(
        webhooks_router(
            subscriptions=subscriptions,
            deliveries=deliveries,
            admin=runtime.authenticator().require(Role.ADMIN),
            relayed_types=[m.type_name() for t in settings.relayed_topics for m in events_on(t)],
            allow_local_targets=settings.allow_local_targets,
            clock=runtime.clock,
        )
    )
    return app
