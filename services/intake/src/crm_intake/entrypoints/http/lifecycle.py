"""Moving a firm along: interactions, stage transitions, status, merging duplicates."""

from fastapi import APIRouter, Response, status

from crm_intake.domain.contact import Interaction
from crm_intake.entrypoints.http.deps import Ctx, IfMatch, Manager, Officer, etag
from crm_intake.entrypoints.http.problems import API, problems
from crm_intake.entrypoints.http.schemas import EnterprisePublic
from crm_intake.service import lifecycle, merge
from crm_intake.service.commands import Merge, NewInteraction, StageMove, StatusMove

router = APIRouter(prefix=f"{API}/enterprises/{{enterprise_id}}", tags=["lifecycle"])


@router.post(
    "/interactions",
    status_code=status.HTTP_201_CREATED,
    summary="Log an interaction",
    responses=problems(404, 410, 412),
)
async def log_interaction(
    enterprise_id: str, body: NewInteraction, ctx: Ctx, actor: Officer, version: IfMatch
) -> Interaction:
    """A call, meeting, site visit…; `contact_ids` must be contacts of this firm."""
    return await lifecycle.log_interaction(
        ctx, enterprise_id, body, actor, expected_version=version
    )


@router.post("/transitions", summary="Move to another stage", responses=problems(404, 410, 412))
async def move_stage(
    enterprise_id: str,
    body: StageMove,
    ctx: Ctx,
    actor: Officer,
    version: IfMatch,
    response: Response,
) -> EnterprisePublic:
    """Forward: 422 lists every missing requirement. Backward: manager role and a reason."""
    view = await lifecycle.move_stage(ctx, enterprise_id, body, actor, expected_version=version)
    response.headers["ETag"] = etag(view.enterprise.version)
    return EnterprisePublic.of(view)


@router.post("/status", summary="Change the status", responses=problems(404, 410, 412))
async def change_status(
    enterprise_id: str,
    body: StatusMove,
    ctx: Ctx,
    actor: Officer,
    version: IfMatch,
    response: Response,
) -> EnterprisePublic:
    """`lost` needs a reason; a dormant firm wakes up by itself when an interaction is logged."""
    view = await lifecycle.change_status(ctx, enterprise_id, body, actor, expected_version=version)
    response.headers["ETag"] = etag(view.enterprise.version)
    return EnterprisePublic.of(view)


@router.post(
    "/merge", summary="Merge a duplicate into this firm", responses=problems(404, 409, 410, 412)
)
async def merge_duplicate(
    enterprise_id: str, body: Merge, ctx: Ctx, actor: Manager, version: IfMatch, response: Response
) -> EnterprisePublic:
    """Contacts, interactions and history move here; the duplicate then answers 301 (reads)
    or 410 (writes) pointing to this firm."""
    view = await merge.merge_enterprises(ctx, enterprise_id, body, actor, expected_version=version)
    response.headers["ETag"] = etag(view.enterprise.version)
    return EnterprisePublic.of(view)
