"""Wires the intake service: adapters, consumers, jobs and HTTP routes, in one place."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from fastapi import FastAPI

from crm_intake.adapters.indexes import ensure_indexes
from crm_intake.entrypoints.consumers import register_consumers
from crm_intake.entrypoints.http import contacts, enterprises, lifecycle
from crm_intake.entrypoints.http.openapi import install_openapi
from crm_intake.entrypoints.http.problems import install_intake_problem_handlers
from crm_intake.entrypoints.web import install_web
from crm_intake.service.context import IntakeContext
from crm_intake.service.lifecycle import mark_dormant_firms
from crm_intake.service.staff import TokenRegistry, record_bootstrap_token
from crm_intake.settings import SERVICE, IntakeSettings
from crm_shared.auth.tokens import TokenSigner
from crm_shared.mongo.client import create_mongo_client
from crm_shared.mongo.unit_of_work import UnitOfWork
from crm_shared.runtime import BackgroundJob, Runtime, create_service_app

log = structlog.get_logger(__name__)


def _signer(settings: IntakeSettings) -> TokenSigner:
    return TokenSigner(settings.api_token_secret.get_secret_value())


def bootstrap(settings: IntakeSettings) -> FastAPI:
    runtime = Runtime(settings, service=SERVICE, database=settings.intake_database)
    ctx = IntakeContext(runtime.uow, runtime.db, signer=_signer(settings), clock=runtime.clock)
    tokens = TokenRegistry(ctx, recheck_seconds=settings.intake_token_recheck_seconds)

    async def prepare_database() -> None:
        await ensure_indexes(runtime.db)
        if settings.bootstrap_admin_token is not None:
            await record_bootstrap_token(ctx, settings.bootstrap_admin_token.get_secret_value())

    runtime.on_startup(prepare_database)
    # Follow-ups and emails appear on the timeline; unsubscribes withdraw consent.
    register_consumers(runtime, ctx)
    if settings.intake_dormant_after_days > 0:
        runtime.background("dormancy-sweep", _dormancy_sweep(ctx, settings))

    app = create_service_app(
        runtime,
        title="Warm Yang CRM — intake",
        description="Firms, contacts, interactions and their lifecycle (staff system of record).",
    )
    app.state.intake = ctx
    app.state.authenticator = runtime.authenticator(still_valid=tokens.still_valid)
    app.state.token_registry = tokens
    install_intake_problem_handlers(app)
    for module in (enterprises, lifecycle, contacts):
        app.include_router(module.router)
    install_openapi(app)
    install_web(app, runtime, settings)  # staff pages under /ui
    return app


def _dormancy_sweep(ctx: IntakeContext, settings: IntakeSettings) -> BackgroundJob:
    async def sweep(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                marked = await mark_dormant_firms(
                    ctx, after_days=settings.intake_dormant_after_days
                )
                if marked:
                    log.info("firms became dormant", count=marked)
            except Exception:
                log.exception("dormancy sweep failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.intake_dormant_sweep_seconds)

    return sweep


@contextlib.asynccontextmanager
async def offline_context(settings: IntakeSettings) -> AsyncIterator[IntakeContext]:
    """The service layer without HTTP or Kafka (the CLIs): events wait in the outbox
    until the running service's relay publishes them."""
    client = create_mongo_client(settings.mongo_uri, app_name=f"{SERVICE}-cli")
    try:
        db = client[settings.intake_database]
        await ensure_indexes(db)
        uow = UnitOfWork(client, db, service=SERVICE)
        await uow.outbox.ensure_indexes()
        yield IntakeContext(uow, db, signer=_signer(settings))
    finally:
        await client.close()
