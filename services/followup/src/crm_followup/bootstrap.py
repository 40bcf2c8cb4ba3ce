"""Wires the follow-up service: adapters, consumers, dispatcher and HTTP routes, in one place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import FastAPI

from crm_followup.adapters.store import FollowupStore
from crm_followup.domain.calendar import BusinessHours, SendingCalendar
from crm_followup.domain.dispatching import DispatchPolicy, StaffMail
from crm_followup.domain.frequency import FrequencyCap
from crm_followup.domain.planning import Planner, StaffDesk
from crm_followup.entrypoints.consumers import register_consumers
from crm_followup.entrypoints.http.followups import followups_router
from crm_followup.rules.loader import load_rules
from crm_followup.rules.models import RulesFile
from crm_followup.service.dispatcher import Dispatcher, DispatcherConfig
from crm_followup.service.journal import Journal
from crm_followup.service.plans import PlanKeeper
from crm_followup.settings import SERVICE, FollowupSettings
from crm_shared.contracts import utcnow
from crm_shared.runtime import Runtime, create_service_app

Clock = Callable[[], datetime]


@dataclass
class FollowupService:
    """Everything the app runs, exposed for tests and benchmarks."""

    runtime: Runtime
    store: FollowupStore
    plans: PlanKeeper
    dispatcher: Dispatcher
    rules: RulesFile


def offset_clock(seconds: float) -> Clock:
    if not seconds:
        return utcnow
    offset = timedelta(seconds=seconds)
    return lambda: utcnow() + offset


def build(
    settings: FollowupSettings, *, clock: Clock | None = None, rules: RulesFile | None = None
) -> FollowupService:
    """The service's parts; `clock` is follow-up's own "now" (due times, sending windows).

    The runtime (transactions, outbox relay) keeps real time: an outbox record is
    committed at a real instant whatever the follow-up clock says.
    """
    followup_clock = clock or offset_clock(settings.followup_clock_offset_seconds)
    rules = rules or load_rules(settings.followup_rules_file)
    runtime = Runtime(settings, service=SERVICE, database=settings.followup_database)
    store = FollowupStore(runtime.db)
    runtime.on_startup(store.ensure_indexes)
    calendar = SendingCalendar(
        BusinessHours(
            settings.followup_business_start,
            settings.followup_business_end,
            enabled=settings.followup_business_hours,
        )
    )
    staff = StaffDesk(settings.followup_staff_timezone, settings.followup_staff_country)
    planner = Planner(rules, calendar, staff)
    journal = Journal(store)
    plans = PlanKeeper(store, planner, journal)
    policy = DispatchPolicy(
        calendar,
        FrequencyCap(
            settings.followup_frequency_cap,
            timedelta(days=settings.followup_frequency_window_days),
        ),
        staff,
        StaffMail(settings.followup_staff_mailbox, settings.followup_staff_email_domain),
    )
    config = DispatcherConfig(
        batch_size=settings.followup_dispatch_batch_size,
        poll_seconds=settings.followup_dispatch_poll_seconds,
        lease_seconds=settings.followup_claim_lease_seconds,
    )
    dispatcher = Dispatcher(
        store, runtime.uow, journal, planner, policy, clock=followup_clock, config=config
    )
    register_consumers(runtime, plans)
    runtime.background("followup-dispatcher", dispatcher.run)
    return FollowupService(runtime, store, plans, dispatcher, rules)


def bootstrap(
    settings: FollowupSettings, *, clock: Clock | None = None, rules: RulesFile | None = None
) -> FastAPI:
    service = build(settings, clock=clock, rules=rules)
    app = create_service_app(
        service.runtime,
        title="Warm Yang CRM — follow-up",
        description="Schedules follow-ups from lifecycle events and decides when an email is due.",
    )
    app.include_router(followups_router(service.runtime, service.store, service.plans))
    app.state.followup = service
    return app
