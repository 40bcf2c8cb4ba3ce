"""/api/v1/enterprises: first contact, listing, reading, editing, duplicates, timeline."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import AwareDatetime

from crm_intake.adapters.enterprises import EnterpriseQuery
from crm_intake.entrypoints.http.deps import Ctx, IfMatch, MergePatch, Officer, etag
from crm_intake.entrypoints.http.problems import API, problems
from crm_intake.entrypoints.http.schemas import (
    Duplicates,
    EnterprisePublic,
    EnterprisesPage,
    Timeline,
    TimelineEntryPublic,
)
from crm_intake.service import duplicates, enterprises, timeline
from crm_intake.service.commands import NewEnterprise
from crm_shared.contracts.vocabulary import Stage, Status

router = APIRouter(prefix=f"{API}/enterprises", tags=["enterprises"])
MERGE_PATCH = {"x-merge-patch": "EnterprisePatch"}


def _answer(response: Response, view: enterprises.EnterpriseView) -> EnterprisePublic:
    response.headers["ETag"] = etag(view.enterprise.version)
    return EnterprisePublic.of(view)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Log a first contact",
    responses=problems(409),
)
async def create_enterprise(
    body: NewEnterprise,
    ctx: Ctx,
    actor: Officer,
    response: Response,
    allow_duplicate: Annotated[
        bool, Query(description="Create even if likely duplicates exist")
    ] = False,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Repeats answer with the first result",
        ),
    ] = None,
) -> EnterprisePublic:
    """The firm and its primary contact; 409 with candidates if it looks like a known firm."""
    view = await enterprises.create_enterprise(
        ctx, body, actor, idempotency_key=idempotency_key, allow_duplicate=allow_duplicate
    )
    response.headers["Location"] = f"{API}/enterprises/{view.enterprise.id}"
    if view.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return _answer(response, view)


@router.get("", summary="List and search firms", responses=problems())
async def list_enterprises(
    ctx: Ctx,
    _: Officer,
    stage: Stage | None = None,
    status: Status | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    sector: str | None = None,
    owner: str | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Prefix of any word of the names")
    ] = None,
    updated_since: Annotated[
        AwareDatetime | None,
        Query(description="Snapshot for new subscribers: changed since, oldest first, merged too"),
    ] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EnterprisesPage:
    """Newest first; `next_cursor` pages on."""
    query = EnterpriseQuery(
        stage=stage,
        status=status,
        country=country.upper() if country else None,
        sector=sector,
        owner=owner,
        q=q,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = await enterprises.list_enterprises(ctx, query)
    return EnterprisesPage(items=items, next_cursor=next_cursor)


@router.get("/{enterprise_id}", summary="One firm with its contacts", responses=problems(301, 404))
async def get_enterprise(
    enterprise_id: str, ctx: Ctx, _: Officer, response: Response
) -> EnterprisePublic:
    return _answer(response, await enterprises.get_enterprise(ctx, enterprise_id))


@router.patch(
    "/{enterprise_id}",
    summary="Edit a firm (JSON merge patch)",
    responses=problems(404, 410, 412, 428),
    openapi_extra=MERGE_PATCH,
)
async def update_enterprise(
    enterprise_id: str,
    ctx: Ctx,
    actor: Officer,
    patch: MergePatch,
    version: IfMatch,
    response: Response,
) -> EnterprisePublic:
    """`If-Match` must carry the version you saw: 428 without it, 412 if it is stale."""
    view = await enterprises.update_enterprise(
        ctx, enterprise_id, patch, actor, expected_version=version
    )
    return _answer(response, view)


@router.get(
    "/{enterprise_id}/duplicates",
    summary="Likely duplicates of a firm",
    responses=problems(301, 404),
)
async def find_duplicates(enterprise_id: str, ctx: Ctx, _: Officer) -> Duplicates:
    candidates = await duplicates.find_duplicates(ctx, enterprise_id)
    return Duplicates(enterprise_id=enterprise_id, candidates=[c.as_dict() for c in candidates])


@router.get(
    "/{enterprise_id}/timeline", summary="A firm's whole history", responses=problems(301, 404)
)
async def get_timeline(
    enterprise_id: str, ctx: Ctx, _: Officer, limit: Annotated[int, Query(ge=1, le=2000)] = 500
) -> Timeline:
    """Stage changes, interactions, audit entries, follow-ups and emails; newest first."""
    entries = await timeline.get_timeline(ctx, enterprise_id, limit=limit)
    return Timeline(
        enterprise_id=enterprise_id,
        entries=[TimelineEntryPublic(**vars(entry)) for entry in entries],
    )
