"""Wires the notification service: adapters, consumers and HTTP routes, in one place."""

from fastapi import FastAPI

from crm_notification.settings import SERVICE, NotificationSettings
from crm_shared.contracts.topics import LIFECYCLE, NOTIFICATION_REQUESTS
from crm_shared.runtime import Runtime, create_service_app


def bootstrap(settings: NotificationSettings) -> FastAPI:
    runtime = Runtime(settings, service=SERVICE, database=settings.notification_database)
    runtime.consumer(NOTIFICATION_REQUESTS)
    # Erasure and opt-out reach the suppression list through lifecycle events.
    runtime.consumer(LIFECYCLE)
    return create_service_app(
        runtime,
        title="Warm Yang CRM — notification",
        description="Renders and sends emails over SMTP, exactly once per request.",
    )
