"""Wires the follow-up service: adapters, consumers and HTTP routes, in one place."""

from fastapi import FastAPI

from crm_followup.settings import SERVICE, FollowupSettings
from crm_shared.contracts.topics import LIFECYCLE, NOTIFICATION
from crm_shared.runtime import Runtime, create_service_app


def bootstrap(settings: FollowupSettings) -> FastAPI:
    runtime = Runtime(settings, service=SERVICE, database=settings.followup_database)
    runtime.consumer(LIFECYCLE)
    runtime.consumer(NOTIFICATION)
    return create_service_app(
        runtime,
        title="Warm Yang CRM — follow-up",
        description="Schedules follow-ups from lifecycle events and decides when an email is due.",
    )
