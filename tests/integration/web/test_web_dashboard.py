"""The dashboard's queries on real data: overdue follow-ups (as the other services' events
told intake) and firms without interaction for 30 days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from crm_intake.service import web_queries
from crm_intake.service.activity import record_activity
from crm_intake.service.commands import NewEnterprise
from crm_intake.service.context import SYSTEM, IntakeContext
from crm_intake.service.enterprises import create_enterprise
from crm_shared.contracts import EventData, new_event, utcnow
from crm_shared.contracts.followup import FollowupCompleted, FollowupScheduled
from crm_shared.contracts.vocabulary import NotificationCategory
from crm_shared.mongo.unit_of_work import Tx, UnitOfWork
from support import unique

from .conftest import Browser, signed_in

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("kafka_topics")]


def _firm(name: str) -> NewEnterprise:
    return NewEnterprise.model_validate(
        {
            "name": name,
            "country": "DE",
            "source": "event",
            "primary_contact": {"full_name": "Jens Weber", "email": f"{unique('j')}@example.com"},
        }
    )


async def _told(ctx: IntakeContext, data: EventData) -> None:
    """What intake's consumer does with a follow-up event from the followup service."""
    event = new_event(data, service="followup", subject=data.enterprise_id)  # type: ignore[attr-defined]

    async def work(tx: Tx) -> None:
        await record_activity(ctx, event, tx)

    await ctx.uow.run(work)


def _scheduled(firm_id: str, followup_id: str, due_in: timedelta) -> FollowupScheduled:
    return FollowupScheduled(
        followup_id=followup_id,
        enterprise_id=firm_id,
        rule="checkin",
        template="checkin",
        category=NotificationCategory.FOLLOWUP,
        due_at=utcnow() + due_in,
    )


async def test_overdue_follow_ups_are_those_whose_latest_news_is_a_past_due_time(
    web_ctx: IntakeContext,
) -> None:
    firm = (await create_enterprise(web_ctx, _firm(unique("Overdue GmbH")), SYSTEM)).enterprise
    late, done, deferred, later = (unique(name) for name in ("late", "done", "deferred", "later"))
    await _told(web_ctx, _scheduled(firm.id, late, -timedelta(hours=2)))
    await _told(web_ctx, _scheduled(firm.id, done, -timedelta(hours=3)))
    await _told(web_ctx, FollowupCompleted(followup_id=done, enterprise_id=firm.id,
                                           notification_id=unique("n")))  # fmt: skip
    await _told(web_ctx, _scheduled(firm.id, deferred, -timedelta(hours=1)))
    await _told(web_ctx, _scheduled(firm.id, deferred, timedelta(days=1)))  # moved to tomorrow
    await _told(web_ctx, _scheduled(firm.id, later, timedelta(hours=5)))

    overdue = await web_queries.overdue_followups(web_ctx, now=utcnow())
    mine = [item for item in overdue if item.enterprise_id == firm.id]
    assert [item.followup_id for item in mine] == [late]
    assert mine[0].enterprise_name == firm.name
    assert mine[0].template == "checkin"


async def test_firms_without_interaction_for_30_days_are_listed(
    web_ctx: IntakeContext, browsers: Callable[..., Browser], new_staff: Any
) -> None:
    long_ago = utcnow() - timedelta(days=40)
    past = IntakeContext(
        UnitOfWork(web_ctx.db.client, web_ctx.db, service="intake", clock=lambda: long_ago),
        web_ctx.db,
        signer=web_ctx.signer,
        clock=lambda: long_ago,
    )
    quiet = (await create_enterprise(past, _firm(unique("Quiet GmbH")), SYSTEM)).enterprise
    busy = (await create_enterprise(web_ctx, _firm(unique("Busy GmbH")), SYSTEM)).enterprise

    listed = {firm.id for firm in await web_queries.quiet_firms(web_ctx, now=utcnow())}
    assert quiet.id in listed
    assert busy.id not in listed

    browser, _ = await signed_in(browsers, new_staff, "officer", language="de")
    page = (await browser.get("/ui/")).text
    assert "Seit 30 Tagen kein Austausch" in page
    assert f'href="/ui/firms/{quiet.id}"' in page
    assert f'href="/ui/firms/{busy.id}"' not in page
