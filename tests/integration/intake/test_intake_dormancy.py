"""Firms without activity become dormant on their own, and wake up with the next interaction."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from crm_intake.bootstrap import offline_context
from crm_intake.service import enterprises, lifecycle
from crm_intake.service.commands import NewEnterprise, NewInteraction
from crm_intake.service.context import SYSTEM, IntakeContext
from crm_shared.contracts.vocabulary import Status
from crm_shared.mongo.outbox import Outbox

from .conftest import firm_body, intake_settings

pytestmark = [pytest.mark.integration]


@pytest_asyncio.fixture(loop_scope="session")
async def fresh(kafka_bootstrap: str, mongo_uri: str) -> AsyncIterator[IntakeContext]:
    """A context on an empty database: the sweep must not touch other tests' firms."""
    async with offline_context(intake_settings(kafka_bootstrap, mongo_uri)) as ctx:
        yield ctx
        await ctx.db.client.drop_database(ctx.db.name)


async def test_the_sweep_marks_quiet_firms_dormant_and_an_interaction_wakes_them(
    fresh: IntakeContext,
) -> None:
    view = await enterprises.create_enterprise(
        fresh, NewEnterprise.model_validate(firm_body()), SYSTEM
    )
    firm_id = view.enterprise.id
    assert await lifecycle.mark_dormant_firms(fresh, after_days=1) == 0  # created just now
    assert await lifecycle.mark_dormant_firms(fresh, after_days=0) == 1
    assert await lifecycle.mark_dormant_firms(fresh, after_days=0) == 0  # only once
    dormant = (await enterprises.get_enterprise(fresh, firm_id)).enterprise
    assert (dormant.status, dormant.status_reason) == (Status.DORMANT, "no activity for 0 days")
    events = await Outbox(fresh.db).events(
        key=firm_id, type="warmyang.enterprise.status_changed.v1"
    )
    assert len(events) == 1

    await lifecycle.log_interaction(
        fresh,
        firm_id,
        NewInteraction.model_validate({"kind": "email", "occurred_at": fresh.clock()}),
        SYSTEM,
    )
    assert (await enterprises.get_enterprise(fresh, firm_id)).enterprise.status is Status.ACTIVE
