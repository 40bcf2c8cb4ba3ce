"""Wires the notification service: adapters, consumers, the dispatcher and HTTP routes."""

from datetime import timedelta

from fastapi import FastAPI

from crm_notification.adapters.deliveries import DeliveryRepository
from crm_notification.adapters.smtp import SmtpConfig, SmtpConnection
from crm_notification.adapters.suppressions import SuppressionRepository
from crm_notification.dispatch.composer import Composer
from crm_notification.dispatch.dispatcher import DispatchConfig, Dispatcher
from crm_notification.dispatch.lease import Lease
from crm_notification.dispatch.recorder import Recorder
from crm_notification.domain.retry import RetryPolicy
from crm_notification.domain.unsubscribe import UnsubscribeTokens
from crm_notification.entrypoints.consumers import NotificationHandlers
from crm_notification.entrypoints.http.notifications import notifications_router
from crm_notification.entrypoints.http.unsubscribe import unsubscribe_router
from crm_notification.rendering.renderer import Renderer
from crm_notification.settings import SERVICE, NotificationSettings
from crm_shared.runtime import Runtime, create_service_app

DISPATCH_LEASE = "dispatcher"


def bootstrap(settings: NotificationSettings) -> FastAPI:
    runtime = Runtime(settings, service=SERVICE, database=settings.notification_database)
    deliveries = DeliveryRepository(runtime.db)
    suppressions = SuppressionRepository(runtime.db)
    runtime.on_startup(deliveries.ensure_indexes)
    runtime.on_startup(suppressions.ensure_indexes)

    tokens = UnsubscribeTokens(
        settings.unsubscribe_secret.get_secret_value(),
        max_age=timedelta(days=settings.unsubscribe_token_max_age_days),
    )
    composer = Composer(
        Renderer(),
        tokens,
        mail_from=settings.mail_from,
        public_base_url=settings.public_base_url,
        unsubscribe_mailbox=settings.unsubscribe_mailto,
        clock=runtime.clock,
    )
    policy = RetryPolicy(
        base_seconds=settings.notification_retry_base_seconds,
        max_seconds=settings.notification_retry_max_seconds,
        max_attempts=settings.notification_max_attempts,
    )
    smtp = SmtpConfig.from_settings(settings)
    dispatcher = Dispatcher(
        deliveries=deliveries,
        suppressions=suppressions,
        recorder_factory=lambda on_recorded: Recorder(
            runtime.uow,
            deliveries,
            suppressions,
            policy,
            message_id=composer.message_id,
            on_recorded=on_recorded,
        ),
        composer=composer,
        connect=lambda: SmtpConnection(smtp),
        lease_factory=lambda owner: Lease(
            runtime.db,
            DISPATCH_LEASE,
            owner=owner,
            seconds=settings.notification_lease_seconds,
            clock=runtime.clock,
        ),
        config=DispatchConfig(
            concurrency=settings.notification_concurrency,
            batch_size=settings.notification_batch_size,
            poll_seconds=settings.notification_poll_seconds,
            lease_seconds=settings.notification_lease_seconds,
        ),
        clock=runtime.clock,
    )
    runtime.background("notification-dispatcher", dispatcher.run)

    NotificationHandlers(
        deliveries,
        suppressions,
        hash_key=settings.address_hash_secret.get_secret_value().encode(),
        nudge=dispatcher.nudge,
        message_id=composer.message_id,
    ).register(runtime)

    app = create_service_app(
        runtime,
        title="Warm Yang CRM — notification",
        description="Renders and sends emails over SMTP, once per request; keeps the "
        "suppression list and serves the unsubscribe page.",
    )
    app.include_router(notifications_router(deliveries, runtime.authenticator()))
    app.include_router(
        unsubscribe_router(
            deliveries=deliveries, suppressions=suppressions, uow=runtime.uow, tokens=tokens
        )
    )
    app.state.dispatcher = dispatcher
    return app
