"""Listings read bounded time windows (SecantusDB scans otherwise): firms spread over years
still come back complete, in order, page by page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from crm_intake.adapters.enterprises import EnterpriseQuery
from crm_intake.bootstrap import offline_context
from crm_intake.domain.enterprise import Enterprise
from crm_intake.service.context import IntakeContext, stored_time
from crm_intake.service.enterprises import list_enterprises
from crm_shared.contracts.vocabulary import Source

from .conftest import intake_settings

pytestmark = [pytest.mark.integration]

NOW = stored_time(datetime.now(UTC))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def spread(kafka_bootstrap: str, mongo_uri: str) -> AsyncIterator[IntakeContext]:
    """40 firms created 0, 3, 9, 27 … days apart over years; some share a tie in time."""
    async with offline_context(intake_settings(kafka_bootstrap, mongo_uri)) as ctx:
        for i in range(40):
            created = NOW - timedelta(days=(i * 53) % 2000, minutes=i)
            if i in (10, 11):
                created = NOW - timedelta(days=400)  # the same millisecond: ids break the tie
            await ctx.enterprises.insert(
                Enterprise(
                    id=f"ent_list{i:04d}",
                    name=f"Listfirma {i} {'Alpha' if i % 3 else 'Beta'}",
                    country="DE" if i % 2 else "CN",
                    source=Source.FORUM,
                    merged_into="ent_list0000" if i == 39 else None,
                    created_at=created,
                    updated_at=created + timedelta(hours=i),
                    last_activity_at=created,
                    created_by="test",
                ),
                None,
            )
        yield ctx
        await ctx.db.client.drop_database(ctx.db.name)


async def _all_pages(ctx: IntakeContext, **filters: object) -> list[Enterprise]:
    items, cursor = [], None
    for _ in range(50):
        page, cursor = await list_enterprises(
            ctx, EnterpriseQuery(limit=7, cursor=cursor, **filters)
        )
        items += page
        if cursor is None:
            return items
    raise AssertionError("paging never ended")


async def test_newest_first_over_years_with_filters_and_ties(spread: IntakeContext) -> None:
    every = [doc async for doc in spread.db.enterprises.find({"merged_into": None})]
    expected = [
        d["_id"] for d in sorted(every, key=lambda d: (d["created_at"], d["_id"]), reverse=True)
    ]
    assert [e.id for e in await _all_pages(spread)] == expected
    german = [i for i in expected if int(i[-4:]) % 2]
    assert [e.id for e in await _all_pages(spread, country="DE")] == german
    betas = [e.id for e in await _all_pages(spread, q="beta listf")]
    assert betas == [i for i in expected if int(i[-4:]) % 3 == 0]


async def test_a_snapshot_walks_forward_from_a_time_and_includes_merged(
    spread: IntakeContext,
) -> None:
    since = NOW - timedelta(days=800)
    every = [doc async for doc in spread.db.enterprises.find({})]
    expected = [
        d["_id"]
        for d in sorted(every, key=lambda d: (d["updated_at"], d["_id"]))
        if d["updated_at"] >= since
    ]
    got = [e.id for e in await _all_pages(spread, updated_since=since)]
    assert got == expected
    assert "ent_list0039" in got  # merged firms too: a subscriber learns where they went
