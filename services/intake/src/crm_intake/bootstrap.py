"""Wires the intake service: adapters, consumers and HTTP routes, in one place."""

from fastapi import FastAPI

from crm_intake.settings import SERVICE, IntakeSettings
from crm_shared.contracts.topics import FOLLOWUP, NOTIFICATION
from crm_shared.runtime import Runtime, create_service_app


def bootstrap(settings: IntakeSettings) -> FastAPI:
    runtime = Runtime(settings, service=SERVICE, database=settings.intake_database)
    # Follow-ups and emails appear on the timeline; unsubscribes withdraw consent.
    runtime.consumer(FOLLOWUP)
    runtime.consumer(NOTIFICATION)
    return create_service_app(
        runtime,
        title="Warm Yang CRM — intake",
        description="Firms, contacts, interactions and their lifecycle.",
    )
