"""Staff API: list a firm's follow-ups, cancel one."""
# No `from __future__ import annotations` here: FastAPI must see the route-local
# `Officer` dependency alias as a real type, not as a string it cannot resolve.

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from crm_followup.adapters.store import FollowupStore
from crm_followup.domain.model import OPEN_STATUSES, CancelReason, FollowupStatus
from crm_followup.service.plans import PlanKeeper
from crm_shared.auth.tokens import Principal, Role
from crm_shared.contracts.vocabulary import NotificationCategory
from crm_shared.http.problems import PROBLEM_RESPONSES, ProblemError
from crm_shared.mongo.unit_of_work import Tx
from crm_shared.runtime import Runtime

MAX_LIMIT = 500


class FollowupPublic(BaseModel):
    id: str
    enterprise_id: str
    rule: str
    template: str
    category: NotificationCategory
    audience: str
    contact_id: str | None = None
    status: FollowupStatus
    due_at: datetime
    occurrence: int = 1
    notification_id: str | None = None
    created_at: datetime | None = None
    dispatched_at: datetime | None = None
    settled_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    failure: str | None = None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> "FollowupPublic":
        return cls.model_validate({**doc, "id": doc["_id"]})


class FollowupsPublic(BaseModel):
    items: list[FollowupPublic]
    count: int


class FollowupCancel(BaseModel):
    reason: str | None = Field(None, max_length=500, description="Why staff cancelled it")


def followups_router(runtime: Runtime, store: FollowupStore, plans: PlanKeeper) -> APIRouter:
    router = APIRouter(prefix="/api/v1/followups", tags=["follow-ups"])
    Officer = Annotated[Principal, Depends(runtime.authenticator().require(Role.OFFICER))]

    @router.get("", response_model=FollowupsPublic, responses=PROBLEM_RESPONSES)
    async def list_followups(
        _caller: Officer,
        enterprise_id: Annotated[str, Query(min_length=1, description="The firm")],
        status: Annotated[FollowupStatus | None, Query(description="Only this status")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    ) -> FollowupsPublic:
        """A firm's follow-ups, soonest due first."""
        query: dict[str, Any] = {"enterprise_id": enterprise_id}
        if status is not None:
            query["status"] = status.value
        cursor = store.followups.find(query, {"anchor": 0, "claim": 0}).sort("due_at", 1)
        docs = await cursor.limit(limit).to_list()
        items = [FollowupPublic.from_document(doc) for doc in docs]
        return FollowupsPublic(items=items, count=len(items))

    @router.post(
        "/{followup_id}/cancel",
        response_model=FollowupPublic,
        responses={
            **PROBLEM_RESPONSES,
            404: PROBLEM_RESPONSES[422] | {"description": "No such follow-up"},
            409: PROBLEM_RESPONSES[422] | {"description": "Already sent, settled or cancelled"},
        },
    )
    async def cancel_followup(
        followup_id: str, caller: Officer, body: FollowupCancel | None = None
    ) -> FollowupPublic:
        """Cancel a follow-up that has not been sent yet."""
        reason = CancelReason.STAFF.value + (f": {body.reason}" if body and body.reason else "")

        async def cancel(tx: Tx) -> dict[str, Any]:
            doc = await store.get(tx, followup_id)
            if doc is None:
                raise ProblemError(
                    404, "Not found", f"no follow-up {followup_id!r}", kind="not-found"
                )
            if doc["status"] not in {
                s.value for s in OPEN_STATUSES
            } or not await plans.journal.cancel(tx, doc, reason, actor=caller.subject):
                raise ProblemError(
                    409, "Conflict", f"follow-up {followup_id!r} is {doc['status']}: "
                    "only a pending follow-up can be cancelled", kind="not-cancellable",
                )  # fmt: skip
            return await store.get(tx, followup_id) or doc

        return FollowupPublic.from_document(await runtime.uow.run(cancel))

    return router
