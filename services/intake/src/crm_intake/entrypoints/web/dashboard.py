"""The start page: firms per stage, overdue follow-ups, firms gone quiet."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from crm_intake.entrypoints.web.deps import Ctx, Renderer, User
from crm_intake.entrypoints.web.rendering import PREFIX
from crm_intake.service import web_queries

router = APIRouter(prefix=PREFIX)
QUIET_DAYS = 30


@router.get("/")
async def dashboard(request: Request, ctx: Ctx, pages: Renderer, user: User) -> Response:
    now = ctx.clock()
    per_stage = await web_queries.firms_per_stage(ctx)
    return pages.render(
        request,
        "dashboard.html",
        per_stage=per_stage,
        total=sum(per_stage.values()),
        overdue=await web_queries.overdue_followups(ctx, now=now),
        quiet=await web_queries.quiet_firms(ctx, now=now, days=QUIET_DAYS),
        quiet_days=QUIET_DAYS,
    )
